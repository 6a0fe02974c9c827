#pragma once
// Circuit breaker per destination, stored in that inbox's header (inbox::breaker_cell), so
// every sender process shares one breaker. This file is the only writer of that cell.
//
//   closed --N consecutive exhausted sends--> open --cooldown over--> half_open
//   half_open --probe sent--> closed     half_open --probe exhausted--> open (cooldown x2, cap)
//
// While open, sends fail fast. half_open admits exactly one probe across all processes: the
// open -> half_open transition is one CAS on the packed state word, and only its winner
// probes. The probe holds a lease; if its process dies mid-probe, the next sender after the
// lease takes over, so a dead probe cannot wedge the breaker.
//
// Packed state word (inbox::breaker_cell::state):
//   bits 0-1   state (closed, open, half_open)
//   bits 2-5   doublings: the current cooldown is min(max_cooldown, cooldown * 2^doublings)
//   bits 6-23  generation: +1 on every transition, so a stale ticket never matches (no ABA)
//   bits 24-63 until, ms of CLOCK_MONOTONIC: end of the cooldown (open) or of the probe
//              lease (half_open); 0 when closed
// Keeping the deadline and the cooldown inside the word makes every transition one CAS with
// nothing written around it. The cell's open_until_ns and cooldown_ms are display copies
// written after each transition. A zero-filled cell is a closed breaker with no history.
#include <chrono>
#include <cstdint>

#include "inbox/breaker_cell.hpp"

namespace sluice::backpressure {

enum class breaker_state : std::uint8_t { closed = 0, open = 1, half_open = 2 };
const char* to_string(breaker_state) noexcept;

struct breaker_config {
  std::uint32_t failure_threshold = 5;            // consecutive exhausted sends that trip it
  std::chrono::milliseconds cooldown{1000};       // first cooldown after a trip
  std::chrono::milliseconds max_cooldown{30000};  // doubling stops here
};

enum class admission : std::uint8_t {
  pass,    // closed: send normally
  probe,   // this caller is the single half-open probe; report its result
  reject,  // open (or a probe is in flight): fail fast
};

// What admit() decided, and the state word it decided on (the caller's ticket).
struct breaker_ticket {
  admission verdict = admission::pass;
  std::uint64_t word = 0;
  std::int64_t retry_at_ns = 0;  // reject: when asking again can succeed
};

// Decoded cell, for tests, `sluice stats` and the monitors.
struct breaker_view {
  breaker_state state = breaker_state::closed;
  std::uint32_t generation = 0;
  std::int64_t until_ns = 0;
  std::uint32_t consecutive_failures = 0;
  std::uint32_t cooldown_ms = 0;
  std::uint64_t trips = 0;
  std::uint64_t rejected_open = 0;
  std::uint64_t probes = 0;
};

// Decodes a cell; the config only matters for cooldown_ms (the state word keeps doublings).
[[nodiscard]] breaker_view inspect(const inbox::breaker_cell& cell,
                                   const breaker_config& cfg = {}) noexcept;

class circuit_breaker {
 public:
  circuit_breaker(inbox::breaker_cell& cell, const breaker_config& cfg) noexcept
      : cell_(cell), cfg_(cfg) {}

  // Closed costs one atomic load and no clock read (now_ns is only called when open).
  // probe_lease: how long a probe may take before another sender may replace it; pass the
  // sender's own deadline plus a margin.
  template <class NowFn>
  [[nodiscard]] breaker_ticket admit(NowFn&& now_ns,
                                     std::chrono::nanoseconds probe_lease) noexcept {
    // Relaxed: the word is self-contained and every decision taken on it is confirmed by a
    // CAS; a stale "closed" only lets one more send try the inbox.
    const std::uint64_t word = cell_.state.load(std::memory_order_relaxed);
    if (state_of(word) == breaker_state::closed) return {admission::pass, word, 0};
    return admit_slow(word, now_ns(), probe_lease);
  }

  // The send the ticket admitted went through.
  void on_success(const breaker_ticket& t) noexcept;
  // The send the ticket admitted exhausted its retries or deadline.
  void on_failure(const breaker_ticket& t, std::int64_t now_ns) noexcept;
  // A probe that ended without a verdict (message too large, no-wait mode): let the next
  // sender probe at once, without doubling the cooldown.
  void on_abandon(const breaker_ticket& t, std::int64_t now_ns) noexcept;

  [[nodiscard]] breaker_view view() const noexcept { return inspect(cell_, cfg_); }

  static breaker_state state_of(std::uint64_t word) noexcept {
    return static_cast<breaker_state>(word & 3U);
  }

 private:
  breaker_ticket admit_slow(std::uint64_t word, std::int64_t now_ns,
                            std::chrono::nanoseconds probe_lease) noexcept;
  bool transition(std::uint64_t expected, std::uint64_t desired) noexcept;
  void open(std::uint64_t expected, std::int64_t now_ns, std::uint32_t doublings) noexcept;

  inbox::breaker_cell& cell_;
  breaker_config cfg_;
};

}  // namespace sluice::backpressure
