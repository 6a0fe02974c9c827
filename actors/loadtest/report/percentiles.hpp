#pragma once
// A latency histogram as a percentile distribution: the points HdrHistogram's percentile
// iterator reports (5 ticks per half distance to 100 %: 0 %, 10 %, ..., 90 %, 95 %, 97.5 %,
// ..., closing in on 100 % as far as the count allows), which the report plots on a "nines"
// axis, and the same points in HdrHistogram's percentile text export (.hgrm), which its
// plotter and other tools read.
#include <cstdint>
#include <string>
#include <vector>

#include "actors/loadtest/latency_histogram.hpp"

namespace sluice::actors {

struct percentile_point {
  double percentile;    // 0..100
  std::uint64_t value;  // the highest value equivalent to the bucket reached
  std::uint64_t count_at_or_below;
};

// Ends with the 100 % point (the largest bucket). Empty for an empty histogram.
std::vector<percentile_point> percentile_distribution(const latency_histogram& h,
                                                      int ticks_per_half_distance = 5);

// The .hgrm text (HdrHistogram's outputPercentileDistribution): a header, one line per point
// (value, percentile as a fraction, count, 1/(1-percentile)), the last without the inverse, and
// the #[Mean, Max, Buckets] footer. Values are divided by value_scale: 1000 turns the
// recorded nanoseconds into microseconds.
std::string hgrm_text(const latency_histogram& h, double value_scale);

}  // namespace sluice::actors
