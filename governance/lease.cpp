#include "governance/lease.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <thread>

#include "governance/clock.hpp"
#include "governance/holder.hpp"

namespace sluice::governance {

lease::lease(governor* owner, acquire_result r)
    : owner_(owner), result_(std::move(r)), holder_pid_(::getpid()) {}

lease::lease(lease&& o) noexcept
    : owner_(o.owner_), result_(std::move(o.result_)), holder_pid_(o.holder_pid_) {
  o.owner_ = nullptr;
  o.result_.lease.clear();
}

lease& lease::operator=(lease&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    result_ = std::move(o.result_);
    holder_pid_ = o.holder_pid_;
    o.owner_ = nullptr;
    o.result_.lease.clear();
  }
  return *this;
}

lease::~lease() {
  release();
}

void lease::release() noexcept {
  if (owner_ != nullptr && !result_.lease.empty() && ::getpid() == holder_pid_)
    owner_->release(result_.lease);
  result_.lease.clear();
}

runtime::result<governor> governor::open(const std::filesystem::path& bus_dir) {
  auto s = store::open(bus_dir);
  if (!s) return s.err();
  return governor(std::move(s.value()));
}

lease governor::acquire(const std::string& key, std::uint64_t cost, std::chrono::nanoseconds wait,
                        const std::string& agent, const pause_fn& pause) {
  acquire_request q;
  q.key = key;
  q.cost = cost;
  q.agent = agent;
  q.holder = holder_word(::getpid()).value_or(0);
  const std::int64_t deadline = monotonic_ns() + wait.count();
  std::minstd_rand rng(static_cast<unsigned>(::getpid() ^ monotonic_ns()));
  // One wait of ns: whole, or a slice through the caller's pause hook (false: stop).
  auto rest = [&](std::int64_t ns, const std::function<void(std::int64_t)>& sleep) {
    if (!pause) {
      sleep(ns);
      return true;
    }
    const std::int64_t slice =
        std::min<std::int64_t>(ns, std::chrono::nanoseconds(pause_slice).count());
    return pause([&] { sleep(slice); });
  };
  auto stopped = [&] {
    acquire_result r;
    r.status = acquire_status::wait;
    r.reason = "interrupted";
    lease l(this, std::move(r));
    l.interrupted_ = true;
    return l;
  };
  for (;;) {
    auto p = store_.current();
    if (!p || p.value() == nullptr) {
      acquire_result r;
      r.reason = p ? "no policy in force" : p.err().message;
      return lease(this, std::move(r));
    }
    const std::int64_t now = monotonic_ns();
    auto r = try_acquire(store_.raw(), *p.value(), q, now, realtime_ns());
    if (r.status == acquire_status::granted) {
      record_cost(store_.raw(), agent, key, cost, 0, realtime_ns());
      if (r.delay_ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(r.delay_ns));
      return lease(this, std::move(r));
    }
    if (r.status == acquire_status::wait && r.lease_wait && now < deadline) {
      const auto& policy = *p.value();
      if (!rest(deadline - now, [&](std::int64_t ns) {
            wait_for_lease(store_.raw(), policy, key, r.lease_bell, ns);
          }))
        return stopped();
      continue;
    }
    if (r.status != acquire_status::wait || now + r.retry_after_ns > deadline)
      return lease(this, std::move(r));
    const std::int64_t tenth = r.retry_after_ns / 10;
    const std::int64_t jitter =
        tenth > 0 ? static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(tenth)) : 0;
    if (!rest(std::min(r.retry_after_ns + jitter, deadline - now),
              [](std::int64_t ns) { std::this_thread::sleep_for(std::chrono::nanoseconds(ns)); }))
      return stopped();
  }
}

bool governor::release(const std::string& lease_text) noexcept {
  auto p = store_.current();
  return p && p.value() != nullptr && release_lease(store_.raw(), *p.value(), lease_text);
}

}  // namespace sluice::governance
