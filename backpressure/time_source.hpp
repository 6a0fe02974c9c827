#pragma once
// Time as the backpressure policies see it. Production reads CLOCK_MONOTONIC, which is
// system-wide, so a deadline written into shared memory by one process means the same
// instant to every other process. Tests inject a fake that advances only when told to.
#include <chrono>
#include <cstdint>

namespace sluice::backpressure {

inline constexpr std::int64_t ns_per_ms = 1'000'000;
inline constexpr std::int64_t ns_per_s = 1'000'000'000;

class time_source {
 public:
  virtual ~time_source() = default;
  // Nanoseconds on a monotonic, system-wide clock.
  [[nodiscard]] virtual std::int64_t now_ns() noexcept = 0;
  // Plain sleep (used for rate-limit waits, which have no doorbell to wake them).
  virtual void sleep_for(std::chrono::nanoseconds d) noexcept = 0;
};

// CLOCK_MONOTONIC and nanosleep.
time_source& monotonic_time() noexcept;

}  // namespace sluice::backpressure
