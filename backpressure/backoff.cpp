#include "backpressure/backoff.hpp"

#include <algorithm>

namespace sluice::backpressure {

std::chrono::nanoseconds backoff_ceiling(const backoff_config& cfg,
                                         std::uint32_t attempt) noexcept {
  const std::int64_t base = std::max<std::int64_t>(cfg.base.count(), 0);
  const std::int64_t cap = std::max<std::int64_t>(cfg.cap.count(), 0);
  if (base == 0) return std::chrono::nanoseconds{0};
  std::int64_t ceiling = std::min(base, cap);
  // Doubling stops once the next step would pass the cap, so it never overflows and runs
  // at most 63 times whatever the attempt number.
  for (std::uint32_t i = 0; i < attempt && ceiling < cap; ++i) {
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  }
  return std::chrono::nanoseconds{ceiling};
}

std::chrono::nanoseconds backoff_delay(const backoff_config& cfg, std::uint32_t attempt,
                                       random_source& rng) noexcept {
  const auto ceiling = backoff_ceiling(cfg, attempt).count();
  return std::chrono::nanoseconds{
      static_cast<std::int64_t>(rng.uniform(static_cast<std::uint64_t>(ceiling)))};
}

}  // namespace sluice::backpressure
