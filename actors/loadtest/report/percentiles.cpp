#include "actors/loadtest/report/percentiles.hpp"

#include <fmt/format.h>

#include <cmath>

namespace sluice::actors {

std::vector<percentile_point> percentile_distribution(const latency_histogram& h,
                                                      int ticks_per_half_distance) {
  std::vector<percentile_point> out;
  const std::uint64_t total = h.count();
  if (total == 0) return out;
  const auto buckets = h.buckets();
  // HdrHistogram's PercentileIterator: report the bucket where the cumulative share first
  // reaches the next level; the step to the next level halves every time the distance to
  // 100 % halves, so each "nine" gets the same number of points.
  double next_level = 0;
  std::uint64_t cumulative = 0;
  for (const auto& b : buckets) {
    cumulative += b.count;
    const double reached = 100.0 * static_cast<double>(cumulative) / static_cast<double>(total);
    while (next_level <= reached) {
      out.push_back({next_level, b.high, cumulative});
      if (cumulative == total || next_level >= 100.0) break;
      const auto halvings =
          static_cast<std::int64_t>(std::log(100.0 / (100.0 - next_level)) / std::log(2.0)) + 1;
      const double ticks = static_cast<double>(ticks_per_half_distance) *
                           std::pow(2.0, static_cast<double>(halvings));
      next_level += 100.0 / ticks;
    }
    if (cumulative == total) break;
  }
  out.push_back({100.0, buckets.back().high, total});
  return out;
}

std::string hgrm_text(const latency_histogram& h, double value_scale) {
  std::string out = fmt::format("{:>12} {:>14} {:>10} {:>14}\n\n", "Value", "Percentile",
                                "TotalCount", "1/(1-Percentile)");
  for (const auto& p : percentile_distribution(h)) {
    const double value = static_cast<double>(p.value) / value_scale;
    const double fraction = p.percentile / 100.0;
    if (p.percentile < 100.0) {
      out += fmt::format("{:12.3f} {:2.12f} {:10d} {:14.2f}\n", value, fraction,
                         p.count_at_or_below, 1.0 / (1.0 - fraction));
    } else {
      out += fmt::format("{:12.3f} {:2.12f} {:10d}\n", value, fraction, p.count_at_or_below);
    }
  }
  // The bucket layout, said the way HdrHistogram says its own: 2^precision_bits sub-buckets
  // in the first bucket and one bucket per further power of two up to 2^64.
  out += fmt::format("#[Mean    = {:12.3f}, StdDeviation   = {:12.3f}]\n", h.mean() / value_scale,
                     h.stddev() / value_scale);
  out += fmt::format("#[Max     = {:12.3f}, Total count    = {:12d}]\n",
                     static_cast<double>(h.max()) / value_scale, h.count());
  out += fmt::format("#[Buckets = {:12d}, SubBuckets     = {:12d}]\n",
                     64 - latency_histogram::precision_bits + 1, latency_histogram::exact_below);
  return out;
}

}  // namespace sluice::actors
