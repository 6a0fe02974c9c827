#include "bindings/node/bell_wait.hpp"

#include <algorithm>

namespace sluice::bindings {

namespace {

std::uint64_t millis_until(std::chrono::steady_clock::time_point t,
                           std::chrono::steady_clock::time_point now) {
  if (t <= now) return 0;
  // Rounded up: a timer that fires early would find the deadline not yet reached.
  return static_cast<std::uint64_t>(std::chrono::ceil<std::chrono::milliseconds>(t - now).count());
}

}  // namespace

bell_wait* bell_wait::open(Napi::Env env, std::shared_ptr<receiver> r) {
  const int fd = r->bell_fd();
  return new bell_wait(env, std::move(r), fd);
}

bell_wait::bell_wait(Napi::Env env, std::shared_ptr<receiver> r, int fd)
    : env_(env), receiver_(std::move(r)) {
  context_.emplace(env, "sluice.wait");
  uv_loop_s* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
    throw Napi::Error::New(env, "sluice: no event loop to wait in");
  if (const int rc = uv_poll_init(loop, &poll_, fd); rc != 0)
    throw Napi::Error::New(
        env, std::string("sluice: cannot watch the inbox's bell: ") + uv_strerror(rc));
  uv_timer_init(loop, &timer_);
  uv_idle_init(loop, &idle_);
  poll_.data = this;
  timer_.data = this;
  idle_.data = this;
  open_handles_ = 3;
  // A worker_thread's environment may end with a wait pending: its loop must not close with
  // our handles open.
  napi_add_env_cleanup_hook(env_, on_env_cleanup, this);
}

void bell_wait::on_env_cleanup(void* self) {
  auto* w = static_cast<bell_wait*>(self);
  w->env_gone_ = true;
  w->pending_.clear();  // nothing can be settled any more
  w->context_.reset();
  w->close_handles();
}

bell_wait::~bell_wait() = default;

Napi::Promise bell_wait::wait(Napi::Env env, std::optional<std::chrono::nanoseconds> timeout,
                              std::chrono::nanoseconds spin) {
  auto deferred = Napi::Promise::Deferred::New(env);
  auto promise = deferred.Promise();
  if (closing_ || receiver_->closed()) {
    deferred.Resolve(Napi::Boolean::New(env, false));
    return promise;
  }
  const auto now = clock_type::now();
  const auto spin_until =
      spin > spin.zero() ? now + std::chrono::duration_cast<clock_type::duration>(spin) : now;
  pending_.push_back(
      {deferred, timeout ? now + *timeout : clock_type::time_point::max(), spin_until});
  spin_until_ = std::max(spin_until_, spin_until);
  if (now < spin_until_) {
    // The caller popped nothing just now: the first look waits for the loop's next iteration.
    start_spin();
  } else if (!receiver_->arm_bell()) {
    // A message may be there: for this wait and for any other (arming again drained the
    // datagram that may have been theirs).
    settle_where(
        true, [](const pending&) { return true; }, false);
    return promise;
  } else {
    watch_bell();
  }
  schedule(now);
  return promise;
}

void bell_wait::watch_bell() {
  if (bell_watched_) return;
  bell_watched_ = true;
  uv_poll_start(&poll_, UV_READABLE,
                [](uv_poll_t* h, int, int) { static_cast<bell_wait*>(h->data)->on_readable(); });
}

void bell_wait::start_spin() {
  if (spinning_) return;
  spinning_ = true;
  uv_idle_start(&idle_, [](uv_idle_t* h) { static_cast<bell_wait*>(h->data)->on_idle(); });
}

void bell_wait::on_idle() {
  // Once per loop iteration: a few loads of the inbox's shared counters, and the clock.
  if (receiver_->closed()) {
    settle_where(
        false, [](const pending&) { return true; }, true);
  } else if (receiver_->anything_queued()) {
    settle_where(
        true, [](const pending&) { return true; }, true);
  } else if (clock_type::now() >= spin_until_) {
    end_spin();
  }
}

void bell_wait::end_spin() {
  spinning_ = false;
  uv_idle_stop(&idle_);
  if (!receiver_->arm_bell()) {
    settle_where(
        true, [](const pending&) { return true; }, true);
    return;
  }
  watch_bell();
}

void bell_wait::on_readable() {
  // The datagram stays until the next wait arms the bell again (arming drains it): two
  // syscalls fewer between the wake-up and the awaiting code.
  settle_where(
      true, [](const pending&) { return true; }, true);
}

void bell_wait::on_timer() {
  const auto now = clock_type::now();
  if (receiver_->closed()) {
    settle_where(
        false, [](const pending&) { return true; }, true);
  } else if (spinning_ ? receiver_->anything_queued() : !receiver_->arm_bell()) {
    settle_where(
        true, [](const pending&) { return true; }, true);
  } else {
    settle_where(
        false, [&](const pending& p) { return p.deadline <= now; }, true);
    if (!pending_.empty()) schedule(now);
  }
}

void bell_wait::schedule(clock_type::time_point now) {
  auto next = now + std::chrono::duration_cast<clock_type::duration>(inbox::bell_recheck);
  for (const auto& p : pending_) next = std::min(next, p.deadline);
  uv_timer_start(
      &timer_, [](uv_timer_t* h) { static_cast<bell_wait*>(h->data)->on_timer(); },
      millis_until(next, now), 0);
}

template <class Pred>
void bell_wait::settle_where(bool ready, Pred pred, bool from_loop) {
  std::vector<pending> done;
  auto keep = std::stable_partition(pending_.begin(), pending_.end(),
                                    [&](const pending& p) { return !pred(p); });
  std::move(keep, pending_.end(), std::back_inserter(done));
  pending_.erase(keep, pending_.end());
  // A wait that ended takes its spin window with it.
  spin_until_ = {};
  for (const auto& p : pending_) spin_until_ = std::max(spin_until_, p.spin_until);
  // Stopped before any JavaScript runs: a wait started from a settled Promise's continuation
  // starts them again.
  if (pending_.empty()) stop();
  if (done.empty()) return;
  Napi::Env env(env_);
  if (!from_loop) {
    for (auto& p : done) p.deferred.Resolve(Napi::Boolean::New(env, ready));
    return;
  }
  // From a libuv callback: the scope runs the microtasks (the awaiting code) when it closes.
  Napi::HandleScope handles(env);
  Napi::CallbackScope scope(env, *context_);
  for (auto& p : done) p.deferred.Resolve(Napi::Boolean::New(env, ready));
}

void bell_wait::settle_all_false() {
  settle_where(
      false, [](const pending&) { return true; }, false);
}

void bell_wait::stop() noexcept {
  if (closing_) return;
  uv_poll_stop(&poll_);
  uv_timer_stop(&timer_);
  uv_idle_stop(&idle_);
  bell_watched_ = false;
  spinning_ = false;
  receiver_->disarm_bell();
}

void bell_wait::release() noexcept {
  released_ = true;
  if (!env_gone_) {
    pending_.clear();  // unreachable: their Promises' code holds the receiver alive
    napi_remove_env_cleanup_hook(env_, on_env_cleanup, this);
  }
  close_handles();
  if (open_handles_ == 0) delete this;
}

void bell_wait::close_handles() noexcept {
  if (closing_) return;
  stop();
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), on_closed);
}

void bell_wait::on_closed(uv_handle_t* h) {
  auto* w = static_cast<bell_wait*>(h->data);
  if (--w->open_handles_ == 0 && w->released_) delete w;
}

}  // namespace sluice::bindings
