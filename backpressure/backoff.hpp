#pragma once
// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
// Jitter"): wait k draws uniformly from [0, min(cap, base * 2^k)]. Full jitter spreads
// senders that hit the same full inbox at the same instant, so they do not retry together.
#include <chrono>
#include <cstdint>

#include "backpressure/random_source.hpp"

namespace sluice::backpressure {

// BACKPRESSURE_WAIT_MS in the seed; the load monitor may set another base in bus.ctl.
inline constexpr std::chrono::milliseconds default_backoff_base{100};
inline constexpr std::chrono::milliseconds default_backoff_cap{5000};

struct backoff_config {
  std::chrono::nanoseconds base = default_backoff_base;
  std::chrono::nanoseconds cap = default_backoff_cap;
};

// min(cap, base * 2^attempt), saturating instead of overflowing for large attempts.
[[nodiscard]] std::chrono::nanoseconds backoff_ceiling(const backoff_config& cfg,
                                                       std::uint32_t attempt) noexcept;

// A draw from [0, backoff_ceiling(cfg, attempt)].
[[nodiscard]] std::chrono::nanoseconds backoff_delay(const backoff_config& cfg,
                                                     std::uint32_t attempt,
                                                     random_source& rng) noexcept;

}  // namespace sluice::backpressure
