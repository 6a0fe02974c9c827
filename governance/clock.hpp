#pragma once
// The two clocks governance reads: CLOCK_MONOTONIC for limiters (shared by every process of
// a machine), CLOCK_REALTIME for calendar quota periods and what people read.
#include <cstdint>
#include <ctime>

namespace sluice::governance {

inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace sluice::governance
