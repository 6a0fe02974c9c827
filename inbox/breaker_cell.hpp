#pragma once
// Circuit-breaker state that lives in each inbox header so that every sender process sees
// the same breaker for a destination. inbox/ only stores these words; their meaning (the
// state machine) belongs to backpressure/circuit_breaker.hpp, which is the only writer.
#include <atomic>
#include <cstdint>

namespace sluice::inbox {

struct alignas(64) breaker_cell {
  // Packed state word, interpreted by backpressure::circuit_breaker (state + generation),
  // so transitions are single CAS operations across processes.
  std::atomic<std::uint64_t> state;
  std::atomic<std::uint32_t> consecutive_failures;
  std::atomic<std::uint32_t> cooldown_ms;    // current cooldown (doubles while probes fail)
  std::atomic<std::int64_t> open_until_ns;   // CLOCK_MONOTONIC, system-wide across processes
  std::atomic<std::uint64_t> trips;          // closed/half-open -> open transitions
  std::atomic<std::uint64_t> rejected_open;  // sends failed fast while open
  std::atomic<std::uint64_t> probes;         // half-open probes started
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(breaker_cell) == 64);

}  // namespace sluice::inbox
