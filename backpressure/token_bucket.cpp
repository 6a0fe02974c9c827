#include "backpressure/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "backpressure/time_source.hpp"

namespace sluice::backpressure {
namespace {

std::uint32_t to_u32(std::int64_t v) noexcept {
  return static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(v, 0, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

take_result take(token_bucket_cell& cell, std::int64_t now_ns, const rate_limit& limit) noexcept {
  take_result r;
  const std::uint32_t burst = std::max<std::uint32_t>(limit.burst, 1);
  r.limit = burst;
  if (!(limit.per_second > 0)) {
    r.remaining = burst;
    return r;
  }
  // Emission interval: one token every `interval` ns. Bounded so that burst * interval
  // stays far from overflow (a rate below one per ~11 days is treated as that).
  const double interval_d = std::clamp(static_cast<double>(ns_per_s) / limit.per_second, 1.0, 1e15);
  const auto interval = static_cast<std::int64_t>(std::llround(interval_d));
  constexpr std::int64_t max_window = std::numeric_limits<std::int64_t>::max() / 4;
  const std::int64_t window = static_cast<std::int64_t>(burst) > max_window / interval
                                  ? max_window
                                  : interval * static_cast<std::int64_t>(burst);

  // Relaxed: the CAS below is the only synchronisation, and the cell holds nothing else.
  std::int64_t tat = cell.tat_ns.load(std::memory_order_relaxed);
  for (;;) {
    // A valid TAT is never more than one window ahead. A larger one is damage or a value
    // from before a reboot (bus.ctl on a persistent SLUICE_DIR): start from a full bucket
    // rather than refusing until that far-away time.
    if (tat > now_ns + window) {
      if (cell.tat_ns.compare_exchange_weak(tat, now_ns, std::memory_order_relaxed)) tat = now_ns;
      continue;
    }
    const std::int64_t next_tat = std::max(tat, now_ns) + interval;
    const std::int64_t allow_at = next_tat - window;
    if (now_ns < allow_at) {
      r.allowed = false;
      r.remaining = 0;
      r.retry_after_ns = allow_at - now_ns;
      r.retry_after_ms = to_u32((r.retry_after_ns + ns_per_ms - 1) / ns_per_ms);
      cell.limited.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      return r;
    }
    if (cell.tat_ns.compare_exchange_weak(tat, next_tat, std::memory_order_relaxed)) {
      r.remaining = to_u32((now_ns - allow_at) / interval);
      cell.allowed.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      return r;
    }
  }
}

}  // namespace sluice::backpressure
