#pragma once
// The rate limiters of governance (docs/architecture.md section 12), each one 64-bit word in
// shared memory changed by one CAS, so a process SIGKILLed at any instruction leaves either
// the old word or the new one, never half a take. Time is passed in (CLOCK_MONOTONIC ns for
// every process of a machine), so tests drive them with a fake clock.
//
// | algorithm       | word                                   | promise |
// |-----------------|----------------------------------------|------------------------------------------|
// | token_bucket    | GCRA theoretical arrival time (ns)     | in any interval of length T: at most
// | |                 |                                        | burst + T x rate units | |
// sliding_window  | window index (20 bits), previous count | each aligned window: at most `count`;
// | |                 | (22), current count (22)               | at every grant prev x (1 -
// elapsed/P) +  | |                 |                                        | cur <= count
// (Cloudflare's estimator)    | | fixed_window    | window index (24 bits), count (40)     | each
// aligned window: at most `count`     | | leaky_bucket    | time the queue drains (ns) | grants
// start at least 1/rate apart; at   | |                 |                                        |
// most `burst` units queued (paces evenly) |
//
// A take may cost more than one unit (tokens of an LLM call). A cost that can never pass
// (above the burst or the window's count) is refused with `never` set. A word read from
// shared memory is not trusted: a value no take could have produced (a time far ahead, counts
// above the limit) decays into a valid state instead of refusing forever.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::governance {

// Every word governance shares between processes (a limiter's state, a counter, a quota's
// usage) is self-contained and changed by one CAS or RMW; nothing else in memory is published
// through one, so its loads and RMWs are relaxed.
inline constexpr auto relaxed = std::memory_order_relaxed;

enum class algorithm : std::uint8_t {
  token_bucket = 0,
  sliding_window = 1,
  fixed_window = 2,
  leaky_bucket = 3,
};
inline constexpr int algorithm_count = 4;
const char* to_string(algorithm) noexcept;
std::optional<algorithm> parse_algorithm(std::string_view) noexcept;

// Windowed counts are packed into the word with the window index: these are their ceilings.
inline constexpr std::uint64_t max_sliding_count = (1ull << 22) - 1;
inline constexpr std::uint64_t max_fixed_count = (1ull << 40) - 1;

// `count` units per `period_ns`. token_bucket: burst units at once after idling;
// leaky_bucket: at most `burst` units waiting in the queue; windows ignore burst.
struct limiter_spec {
  algorithm algo = algorithm::token_bucket;
  std::uint64_t count = 1;
  std::int64_t period_ns = 1'000'000'000;
  std::uint64_t burst = 1;
};

struct decision {
  bool allowed = false;
  bool never = false;               // the cost exceeds what the limiter can ever grant at once
  std::uint64_t limit = 0;          // burst (token and leaky bucket) or the window's count
  std::uint64_t remaining = 0;      // units a take could still get now (after this one)
  std::int64_t retry_after_ns = 0;  // refused: the earliest a take of this cost can pass
  std::int64_t delay_ns = 0;        // leaky_bucket, allowed: start only after this long
  std::uint64_t word = 0;           // the word this decision wrote (allowed) or read (refused)
};

// Takes `cost` units at now_ns if the limiter has them.
[[nodiscard]] decision take(std::atomic<std::uint64_t>& word, const limiter_spec& spec,
                            std::int64_t now_ns, std::uint64_t cost) noexcept;

// Returns the units an allowed take charged, because a later check refused the request it
// was part of. Windows give back only while the charged window is still the current or the
// previous one; a crash between take and give_back only leaves the limiter stricter.
void give_back(std::atomic<std::uint64_t>& word, const limiter_spec& spec, const decision& taken,
               std::uint64_t cost) noexcept;

// One allowed take of a request that checks several limiters, kept to be given back if a later
// one refuses. Trivial, so an array of them costs nothing to set up per request.
struct charge {
  std::atomic<std::uint64_t>* word;
  const limiter_spec* spec;
  std::uint64_t written;  // the word the take wrote
  std::uint64_t cost;
};
void give_back(const charge& c) noexcept;

// What a limiter holds at now_ns, for `sluice limits` and Prometheus.
struct limiter_view {
  std::uint64_t available = 0;     // units a take could get now
  std::uint64_t limit = 0;         // as decision::limit
  std::uint64_t window_count = 0;  // windows: units counted in the current window
  std::int64_t next_free_ns = 0;   // buckets: when one more unit becomes available (0: now)
};
[[nodiscard]] limiter_view inspect(std::uint64_t word, const limiter_spec& spec,
                                   std::int64_t now_ns) noexcept;

// A spec a take can work with: count >= 1, period >= 1 ms, burst >= 1, windowed counts
// within their packing. Empty when valid, else what to fix.
std::optional<std::string_view> validate(const limiter_spec& spec) noexcept;

}  // namespace sluice::governance
