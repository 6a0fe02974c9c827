#pragma once
// Hooks for metrics and alerts. backpressure/ does no I/O: runtime/ implements this with the
// seed names (backpressure.wait, backpressure.send.success, backpressure.send.failure, and
// the critical inbox_overflow alert). Calls happen on the sender's thread, inside the send:
// keep them cheap and non-blocking.
#include <chrono>
#include <cstdint>
#include <string_view>

#include "backpressure/send_policy.hpp"
#include "inbox/inbox.hpp"

namespace sluice::backpressure {

struct send_event {
  std::string_view from;  // sender agent
  std::string_view to;    // destination agent
  inbox::priority prio = inbox::priority::normal;
  std::uint32_t max_size = 0;  // destination capacity (regular slots)
};

class send_observer {
 public:
  virtual ~send_observer() = default;
  // Before each backpressure wait: `retry` counts from 0, `delay` is the jittered timer.
  // Seed metric: backpressure.wait.
  virtual void on_backpressure_wait(const send_event&, std::uint32_t /*retry*/,
                                    std::chrono::nanoseconds /*delay*/) noexcept {}
  // Seed metric: backpressure.send.success.
  virtual void on_send_success(const send_event&, const send_outcome&) noexcept {}
  // Backpressure exhausted (status timed_out): seed metric backpressure.send.failure and
  // the critical inbox_overflow alert with from, to, retries (outcome.waits) and max_size.
  virtual void on_send_failure(const send_event&, const send_outcome&) noexcept {}
  // Ended without trying or without waiting: circuit_open, rate_limited, full (no-wait),
  // rejected. A metric at most; alerting on each would flood while a breaker is open.
  virtual void on_send_refused(const send_event&, const send_outcome&) noexcept {}
};

// Observes nothing.
send_observer& null_observer() noexcept;

}  // namespace sluice::backpressure
