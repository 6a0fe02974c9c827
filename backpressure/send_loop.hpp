#pragma once
// The send loop behind send_with_backpressure, written once for any target with the inbox's
// sender-side interface (try_push, wait_not_full, breaker, count_backpressure_wait,
// count_send_failure, agent, capacity), so that tests can drive it against a scripted fake
// with a fake clock and check every retry exactly.
//
// Order of a send: rate gates -> breaker -> try_push; on full, wait a jittered backoff on the
// not_full doorbell and try again, until sent, retries or deadline are exhausted.
// A critical message skips the gates and the breaker, and is tried at once (the inbox keeps a
// critical reserve); it waits only if that reserve is full too, and never trips the breaker.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "backpressure/backoff.hpp"
#include "backpressure/circuit_breaker.hpp"
#include "backpressure/random_source.hpp"
#include "backpressure/send_observer.hpp"
#include "backpressure/send_policy.hpp"
#include "backpressure/time_source.hpp"
#include "backpressure/token_bucket.hpp"
#include "inbox/inbox.hpp"

namespace sluice::backpressure {
namespace detail {

// Takes a token from every configured gate, sleeping for refills while the deadline allows.
inline bool pass_rate_gates(const send_policy& policy, send_outcome& out,
                            time_source& time) noexcept {
  const std::int64_t budget = policy.effective_deadline().count();
  for (const rate_gate& gate : policy.rate_gates) {
    if (gate.cell == nullptr) continue;
    for (;;) {
      const take_result r = take(*gate.cell, time.now_ns(), gate.limit);
      if (r.allowed) break;
      if (!policy.wait || out.waited.count() + r.retry_after_ns > budget) {
        out.status = send_status::rate_limited;
        out.retry_after = std::chrono::nanoseconds{r.retry_after_ns};
        return false;
      }
      const std::int64_t before = time.now_ns();
      time.sleep_for(std::chrono::nanoseconds{r.retry_after_ns});
      out.waited += std::chrono::nanoseconds{time.now_ns() - before};
    }
  }
  return true;
}

// Asks the policy's admission gate; may lower msg's lane. Sleeps through `wait` verdicts
// while the deadline allows, as for the rate gates.
inline bool pass_admission(const send_policy& policy, const inbox::message_view& original,
                           std::string_view to, inbox::message_view& msg, send_outcome& out,
                           time_source& time) noexcept {
  if (policy.gate == nullptr) return true;
  const std::int64_t budget = policy.effective_deadline().count();
  const admission_request request{original.from, to, original.type, original.prio};
  for (;;) {
    const admission_verdict v = policy.gate->admit(request, time.now_ns());
    if (v.kind == admit_kind::deny) {
      out.status = send_status::denied;
      return false;
    }
    if (v.kind == admit_kind::wait) {
      if (!policy.wait || out.waited.count() + v.retry_after_ns > budget) {
        out.status = send_status::rate_limited;
        out.retry_after = std::chrono::nanoseconds{v.retry_after_ns};
        return false;
      }
      const std::int64_t before = time.now_ns();
      time.sleep_for(std::chrono::nanoseconds{v.retry_after_ns});
      out.waited += std::chrono::nanoseconds{time.now_ns() - before};
      continue;
    }
    if (v.kind == admit_kind::demote) msg.prio = v.demote_to;
    if (v.delay_ns > 0) {
      const std::int64_t before = time.now_ns();
      time.sleep_for(std::chrono::nanoseconds{v.delay_ns});
      out.waited += std::chrono::nanoseconds{time.now_ns() - before};
    }
    return true;
  }
}

}  // namespace detail

template <class Target>
[[nodiscard]] send_outcome basic_send(Target& target, const inbox::message_view& requested,
                                      const send_policy& policy, send_observer& observer,
                                      time_source& time, random_source& rng) noexcept {
  send_outcome out;
  inbox::message_view msg = requested;
  const send_event event{msg.from, target.agent(), msg.prio, target.capacity()};
  const bool critical = msg.prio == inbox::priority::critical;
  const auto deadline = policy.effective_deadline();

  // The bus policy sees critical sends too: its rules leave the critical lane alone unless
  // they name it.
  if (!detail::pass_admission(policy, requested, target.agent(), msg, out, time)) {
    observer.on_send_refused(event, out);
    return out;
  }
  if (!critical && !detail::pass_rate_gates(policy, out, time)) {
    observer.on_send_refused(event, out);
    return out;
  }

  circuit_breaker breaker(target.breaker(), policy.breaker);
  breaker_ticket ticket{};
  if (!critical) {
    // A probe may take a whole send; past that plus one cooldown it is presumed dead.
    ticket = breaker.admit([&time] { return time.now_ns(); },
                           deadline + std::chrono::nanoseconds{policy.breaker.cooldown});
    if (ticket.verdict == admission::reject) {
      out.status = send_status::circuit_open;
      out.retry_after =
          std::chrono::nanoseconds{std::max<std::int64_t>(ticket.retry_at_ns - time.now_ns(), 0)};
      observer.on_send_refused(event, out);
      return out;
    }
    out.probe = ticket.verdict == admission::probe;
  }

  std::int64_t first_full_ns = 0;
  // Only waits that ran out their timer use up a retry. A doorbell wake that then loses the
  // freed slot to another sender is contention, not a stuck inbox: with 64 senders on one
  // inbox, counting those burnt the 50 retries in well under the deadline and tripped the
  // breaker on an inbox that was draining fine. The deadline still bounds the whole send.
  std::uint32_t expired_waits = 0;
  for (;;) {
    const inbox::push_result r = target.try_push(msg, &out.receipt, policy.overflow);
    ++out.attempts;
    out.last_push = r;
    if (r == inbox::push_result::ok) {
      out.status = send_status::sent;
      if (!critical) breaker.on_success(ticket);
      observer.on_send_success(event, out);
      return out;
    }
    if (r != inbox::push_result::full) {
      // The message itself is refused (too large, inbox closed): no verdict on the inbox.
      out.status = send_status::rejected;
      if (!critical) breaker.on_abandon(ticket, time.now_ns());
      observer.on_send_refused(event, out);
      return out;
    }
    if (!policy.wait) {
      // Fail-fast callers poll; one full answer is not an exhausted send.
      out.status = send_status::full;
      if (!critical) breaker.on_abandon(ticket, time.now_ns());
      observer.on_send_refused(event, out);
      return out;
    }
    const std::int64_t now = time.now_ns();
    if (out.waits == 0) first_full_ns = now;
    const std::int64_t left = first_full_ns + deadline.count() - now;
    if (expired_waits >= policy.max_retries || left <= 0) {
      out.status = send_status::timed_out;
      target.count_send_failure();
      if (!critical) breaker.on_failure(ticket, now);
      observer.on_send_failure(event, out);
      return out;
    }
    const auto delay =
        std::min(backoff_delay(policy.backoff, out.waits, rng), std::chrono::nanoseconds{left});
    target.count_backpressure_wait();
    observer.on_backpressure_wait(event, out.waits, delay);
    out.last_wake = target.wait_not_full(delay);
    if (out.last_wake == inbox::wake_reason::timed_out) ++expired_waits;
    ++out.waits;
    out.waited += std::chrono::nanoseconds{time.now_ns() - now};
  }
}

}  // namespace sluice::backpressure
