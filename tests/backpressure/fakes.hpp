#pragma once
// Test doubles: a clock that moves only when told, randomness that returns what it is told,
// and a send target (the inbox's sender-side interface) that answers from a script.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "backpressure/random_source.hpp"
#include "backpressure/time_source.hpp"
#include "inbox/breaker_cell.hpp"
#include "inbox/inbox.hpp"

namespace sluice::backpressure::testing {

class fake_time final : public time_source {
 public:
  explicit fake_time(std::int64_t start_ns = 1'000'000'000) : now_(start_ns) {}
  std::int64_t now_ns() noexcept override { return now_; }
  void sleep_for(std::chrono::nanoseconds d) noexcept override {
    sleeps.push_back(d);
    now_ += d.count();
  }
  void advance(std::chrono::nanoseconds d) noexcept { now_ += d.count(); }
  std::vector<std::chrono::nanoseconds> sleeps;

 private:
  std::int64_t now_;
};

// Draws `fraction` of the allowed range: 1.0 is always the ceiling, 0.0 always zero.
class fixed_random final : public random_source {
 public:
  explicit fixed_random(double fraction) : fraction_(fraction) {}
  std::uint64_t uniform(std::uint64_t max_inclusive) noexcept override {
    maxima.push_back(max_inclusive);
    return static_cast<std::uint64_t>(static_cast<double>(max_inclusive) * fraction_);
  }
  std::vector<std::uint64_t> maxima;  // every range asked for, in order

 private:
  double fraction_;
};

// Answers try_push from a script (then `otherwise`), and advances the fake clock on waits:
// by the whole timeout, or by `ring_after` when the script says the doorbell rings.
class fake_target {
 public:
  explicit fake_target(fake_time& time) : time_(time) {}

  inbox::push_result try_push(const inbox::message_view& msg, inbox::push_receipt* receipt,
                              inbox::overflow_policy) noexcept {
    pushed_prio.push_back(msg.prio);
    inbox::push_result r = otherwise;
    if (!pushes.empty()) {
      r = pushes.front();
      pushes.pop_front();
    }
    if (r == inbox::push_result::ok && receipt != nullptr) receipt->sequence = ++sequence_;
    return r;
  }

  inbox::wake_reason wait_not_full(std::chrono::nanoseconds timeout) noexcept {
    waits.push_back(timeout);
    if (!rings.empty() && rings.front()) {
      rings.pop_front();
      time_.advance(std::min(ring_after, timeout));
      return inbox::wake_reason::rang;
    }
    if (!rings.empty()) rings.pop_front();
    time_.advance(timeout);
    return inbox::wake_reason::timed_out;
  }

  inbox::breaker_cell& breaker() noexcept { return cell; }
  void count_backpressure_wait() noexcept { ++counted_waits; }
  void count_send_failure() noexcept { ++counted_failures; }
  const std::string& agent() const noexcept { return name; }
  std::uint32_t capacity() const noexcept { return 1000; }

  std::deque<inbox::push_result> pushes;
  inbox::push_result otherwise = inbox::push_result::full;
  std::deque<bool> rings;  // per wait: true = the doorbell rings before the timer
  std::chrono::nanoseconds ring_after{std::chrono::microseconds{5}};
  std::vector<std::chrono::nanoseconds> waits;
  std::vector<inbox::priority> pushed_prio;
  inbox::breaker_cell cell{};
  std::uint32_t counted_waits = 0;
  std::uint32_t counted_failures = 0;
  std::string name = "bob";

 private:
  fake_time& time_;
  std::uint64_t sequence_ = 0;
};

}  // namespace sluice::backpressure::testing
