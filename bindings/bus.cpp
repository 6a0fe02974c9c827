#include "bindings/bus.hpp"

#include "backpressure/address.hpp"
#include "backpressure/circuit_breaker.hpp"
#include "backpressure/send_loop.hpp"
#include "governance/send_gate.hpp"
#include "inbox/layout.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/config.hpp"
#include "runtime/inbox_stats.hpp"

namespace sluice::bindings {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

template <class T>
T take(inbox::result<T>&& r) {
  if (!r) raise(r.err());
  return std::move(r).value();
}

inbox::bus_sharing sharing(bool group) noexcept {
  return group ? inbox::bus_sharing::group : inbox::bus_sharing::private_bus;
}

void require_agent_name(std::string_view name, std::string_view role) {
  if (inbox::is_valid_agent_name(name)) return;
  throw error(error_kind::bad_input, "invalid agent name '" + std::string(name) + "' for " +
                                         std::string(role) + ": use 1-" +
                                         std::to_string(inbox::max_agent_name) +
                                         " characters from A-Z a-z 0-9 _ -");
}

// The inbox seen by the send loop, with its waits cut into the binding's slices. A stop
// request ends the send through the loop's own exit for a refused message (no verdict on
// the destination's breaker, nothing counted as a failure), and the caller then throws
// interrupted.
class sliced_target {
 public:
  sliced_target(inbox::inbox& box, waiter& w) noexcept : box_(box), w_(w) {}

  inbox::push_result try_push(const inbox::message_view& m, inbox::push_receipt* r,
                              inbox::overflow_policy p) noexcept {
    if (stopped_) return inbox::push_result::closed;
    return box_.try_push(m, r, p);
  }
  inbox::wake_reason wait_not_full(std::chrono::nanoseconds timeout) noexcept {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
      const auto left = deadline - clock_type::now();
      auto woke = inbox::wake_reason::timed_out;
      if (left > left.zero()) {
        w_.block([&] {
          woke = box_.wait_not_full(std::min<std::chrono::nanoseconds>(left, wait_slice));
        });
      }
      if (!w_.keep_waiting()) {
        stopped_ = true;
        return inbox::wake_reason::rang;
      }
      if (woke != inbox::wake_reason::timed_out || clock_type::now() >= deadline) return woke;
    }
  }
  inbox::breaker_cell& breaker() noexcept { return box_.breaker(); }
  void count_backpressure_wait() noexcept { box_.count_backpressure_wait(); }
  void count_send_failure() noexcept { box_.count_send_failure(); }
  const std::string& agent() const noexcept { return box_.agent(); }
  std::uint32_t capacity() const noexcept { return box_.capacity(); }
  bool stopped() const noexcept { return stopped_; }

 private:
  inbox::inbox& box_;
  waiter& w_;
  bool stopped_ = false;
};

}  // namespace

bool is_valid_type(std::string_view type) noexcept {
  if (type.empty() || type.size() > inbox::max_type_name) return false;
  for (const char c : type) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

class bus::policy_gate final : public backpressure::admission_gate {
 public:
  explicit policy_gate(std::filesystem::path dir) : gate_(std::move(dir)) {}
  backpressure::admission_verdict admit(const backpressure::admission_request& request,
                                        std::int64_t now_ns) noexcept override {
    std::lock_guard lock(mu_);
    return gate_.admit(request, now_ns);
  }

 private:
  std::mutex mu_;
  governance::send_gate gate_;
};

bus::bus(fs::path dir, bool group)
    : dir_(std::move(dir)), group_(group), gate_(std::make_shared<policy_gate>(dir_)) {}

std::shared_ptr<bus> bus::open(const open_options& opts) {
  fs::path dir = opts.dir;
  if (!dir.empty() && !opts.name.empty()) {
    throw error(error_kind::bad_input, "the bus is given by name '" + opts.name +
                                           "' and by directory " + dir.string() +
                                           ": give one of them");
  }
  if (dir.empty() && !opts.name.empty()) {
    // A name given in code means that bus, whatever $SLUICE_DIR says.
    if (!inbox::is_valid_agent_name(opts.name)) {
      throw error(error_kind::bad_input, "'" + opts.name +
                                             "' is not a valid bus name; use 1 to 64 of "
                                             "A-Z a-z 0-9 _ -");
    }
    dir = fs::path(runtime::default_bus_root) / opts.name;
  }
  if (dir.empty()) dir = take(runtime::resolve_bus({})).dir;
  // A bus that exists must be one the caller may trust before any file in it is read; a
  // missing one is made by the first send or receive.
  if (auto trusted = runtime::check_bus_dir(dir, sharing(opts.group));
      !trusted && trusted.err().code != inbox::errc::not_found) {
    raise(trusted.err());
  }
  auto b = std::make_shared<bus>(dir, opts.group);
  runtime::config config(dir);
  b->new_inbox_ = take(config.new_inbox_options());
  b->new_inbox_.mode = opts.group ? 0660 : 0600;
  b->max_retries_ = take(config.backpressure_retries());
  b->configured_ = take(runtime::configured_policy(config));
  return b;
}

runtime::rate_policy bus::policy_now() {
  std::lock_guard lock(mu_);
  if (!control_ && clock_type::now() >= next_control_try_) {
    // bus.ctl appears when a monitor starts; looking for it on every send would cost a
    // failed open each time.
    if (auto c = runtime::bus_control::open(dir_)) control_.emplace(std::move(c.value()));
    next_control_try_ = clock_type::now() + std::chrono::milliseconds(500);
  }
  return control_ ? control_->policy_now(configured_) : configured_;
}

std::uint32_t bus::batch_size() {
  return std::max<std::uint32_t>(1, policy_now().batch_size);
}

inbox::inbox* bus::inbox_of(std::string_view agent, bool create, std::size_t payload_size,
                            std::string_view address) {
  std::lock_guard lock(mu_);
  if (auto it = inboxes_.find(agent); it != inboxes_.end()) return it->second.get();
  auto opened = inbox::inbox::open(dir_, agent);
  if (!opened && opened.err().code == inbox::errc::not_found) {
    if (!create) return nullptr;
    const std::uint32_t limit = inbox::layout::max_payload_of(new_inbox_.slot_size);
    if (payload_size > limit) {
      throw error(error_kind::too_large, runtime::stored_payload_too_large(
                                             payload_size, address.empty() ? agent : address, limit)
                                             .message);
    }
    if (auto made = runtime::ensure_bus_dir(dir_, sharing(group_)); !made) raise(made.err());
    opened = inbox::inbox::open_or_create(dir_, agent, new_inbox_);
  }
  auto box = std::make_unique<inbox::inbox>(take(std::move(opened)));
  return inboxes_.emplace(std::string(agent), std::move(box)).first->second.get();
}

struct bus::resolved {
  inbox::inbox* dest;
  backpressure::send_policy policy;
};

bus::resolved bus::resolve(std::string_view from, std::string_view to, std::string_view type,
                           std::string_view& payload, std::string& wrapped,
                           const send_options& opts) {
  require_agent_name(from, "from");
  if (!is_valid_type(type)) {
    throw error(error_kind::bad_input, "invalid message type '" + std::string(type) + "': use 1-" +
                                           std::to_string(inbox::max_type_name) +
                                           " characters from A-Z a-z 0-9 _ - . :");
  }
  std::string outbound;
  std::string_view name = to;
  // agent@peer rides in an envelope in the bridge's outbound inbox (backpressure/address.hpp).
  if (to.find('@') != std::string_view::npos) {
    auto remote = take(backpressure::parse_address(to));
    if (remote) {
      wrapped = backpressure::wrap_envelope(remote->agent, payload);
      payload = wrapped;
      outbound = backpressure::outbound_inbox(remote->peer);
      name = outbound;
    }
  }
  require_agent_name(name, "to");
  resolved r{inbox_of(name, true, payload.size(), to), {}};
  r.policy.max_retries = max_retries_;
  r.policy.backoff.base = std::chrono::milliseconds(policy_now().backpressure_wait_ms);
  r.policy.deadline = opts.timeout;
  r.policy.wait = opts.wait;
  r.policy.overflow = opts.overflow;
  r.policy.gate = gate_.get();
  return r;
}

std::uint64_t bus::send(std::string_view from, std::string_view to, std::string_view type,
                        std::string_view payload, const send_options& opts, waiter& w) {
  std::string wrapped;
  auto r = resolve(from, to, type, payload, wrapped, opts);
  sliced_target target(*r.dest, w);
  const auto out =
      backpressure::basic_send(target, inbox::message_view{from, type, payload, opts.prio},
                               r.policy, backpressure::null_observer(),
                               backpressure::monotonic_time(), backpressure::default_random());
  if (target.stopped()) throw interrupted{};
  if (out.status != backpressure::send_status::sent) {
    raise_send_failure(from, r.dest->agent(), out, payload.size(), r.dest->snapshot().max_payload,
                       to);
  }
  return out.receipt.id;
}

std::optional<std::uint64_t> bus::try_send(std::string_view from, std::string_view to,
                                           std::string_view type, std::string_view payload,
                                           const send_options& opts) {
  std::string wrapped;
  auto r = resolve(from, to, type, payload, wrapped, opts);
  r.policy.wait = false;
  const auto out =
      backpressure::basic_send(*r.dest, inbox::message_view{from, type, payload, opts.prio},
                               r.policy, backpressure::null_observer(),
                               backpressure::monotonic_time(), backpressure::default_random());
  if (out.status == backpressure::send_status::sent) return out.receipt.id;
  if (out.status == backpressure::send_status::full && opts.wait) return std::nullopt;
  raise_send_failure(from, r.dest->agent(), out, payload.size(), r.dest->snapshot().max_payload,
                     to);
}

std::vector<inbox::message> bus::peek(std::string_view agent, std::size_t max) {
  require_agent_name(agent, "peek");
  auto* box = inbox_of(agent, false);
  if (box == nullptr) return {};
  const auto s = box->snapshot();
  auto pending =
      box->peek(std::min<std::size_t>(max, std::size_t{s.capacity} + s.critical_reserve));
  if (box->broken()) {
    throw error(
        error_kind::io_error,
        box->path().string() + " shrank or lost its memory while in use: run sluice doctor");
  }
  return pending;
}

std::uint64_t bus::count(std::string_view agent) {
  require_agent_name(agent, "count");
  auto* box = inbox_of(agent, false);
  return box == nullptr ? 0 : box->size();
}

namespace {

inbox_report report_of(std::string_view agent, inbox::inbox& box) {
  inbox_report r;
  r.agent = std::string(agent);
  const auto s = box.snapshot();
  for (std::size_t i = 0; i < runtime::inbox_stat_count; ++i) {
    const auto& row = runtime::inbox_stat_table[i];
    if ((row.shown & runtime::in_get_stats) != 0)
      r.counters.emplace_back(row.key, runtime::json_value(row, s));
  }
  r.breaker = backpressure::to_string(backpressure::inspect(box.breaker()).state);
  return r;
}

}  // namespace

inbox_report bus::stats(std::string_view agent) {
  require_agent_name(agent, "stats");
  auto* box = inbox_of(agent, false);
  if (box == nullptr) {
    throw error(error_kind::not_found,
                "no inbox " + std::string(agent) + " on the bus " + dir_.string());
  }
  return report_of(agent, *box);
}

std::vector<inbox_report> bus::stats() {
  std::vector<inbox_report> out;
  for (const auto& agent : agents()) {
    // One unreadable inbox must not hide the others: it is listed with its reason. One
    // removed while listing is not listed.
    try {
      if (auto* box = inbox_of(agent, false)) out.push_back(report_of(agent, *box));
    } catch (const error& e) {
      out.push_back(inbox_report{agent, {}, {}, e.what()});
    }
  }
  return out;
}

std::vector<std::string> bus::agents() const {
  return runtime::list_agents(dir_);
}

}  // namespace sluice::bindings
