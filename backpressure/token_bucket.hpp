#pragma once
// Token-bucket rate limit in shared memory, one cell per sender (or sender->destination),
// kept by runtime/ in a fixed table in bus.ctl so every process shares the same buckets.
//
// Implemented as GCRA (the generic cell rate algorithm, as in redis-cell): the whole bucket
// is one word, the theoretical arrival time (TAT) of the next request, so a take is a single
// CAS and needs no lock. Equivalent to a bucket of `burst` tokens refilled at `per_second`.
// A zero-filled cell is a full bucket.
#include <atomic>
#include <cstdint>
#include <type_traits>

namespace sluice::backpressure {

struct alignas(64) token_bucket_cell {
  std::atomic<std::int64_t> tat_ns;    // CLOCK_MONOTONIC ns; system-wide across processes
  std::atomic<std::uint64_t> allowed;  // takes granted
  std::atomic<std::uint64_t> limited;  // takes refused (the sender waited or failed fast)
};

// Shared-memory rules: no pointers, lock-free atomics, fixed size, valid when zero-filled.
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<token_bucket_cell>);
static_assert(std::is_trivially_destructible_v<token_bucket_cell>);
static_assert(sizeof(token_bucket_cell) == 64);

struct rate_limit {
  double per_second = 0;    // sustained rate; <= 0 means unlimited
  std::uint32_t burst = 1;  // bucket size: requests allowed at once after being idle
};

struct take_result {
  bool allowed = true;
  std::uint32_t limit = 0;           // = burst
  std::uint32_t remaining = 0;       // requests still allowed right now
  std::uint32_t retry_after_ms = 0;  // when refused: wait this long (rounded up)
  std::int64_t retry_after_ns = 0;   // the same, exact
};

// Takes one token at now_ns if the bucket has one.
[[nodiscard]] take_result take(token_bucket_cell& cell, std::int64_t now_ns,
                               const rate_limit& limit) noexcept;

}  // namespace sluice::backpressure
