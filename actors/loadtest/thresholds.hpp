#pragma once
// --fail-if: thresholds a load test must meet, for CI, such as 'p99>5ms,lost>0,throughput<100k'
// (fail when p99 is above 5 ms, when anything was lost, when fewer than 100k msgs/s went
// through). Figures are named by their --fail-if alias or result.json key (figures.hpp);
// latencies and durations need a time unit (ns, us, µs, ms, s), counts and rates take an
// optional k, M or G. With --repeat a threshold is held against the mean over the runs.
//
// Pure logic.
#include <string>
#include <string_view>
#include <vector>

#include "actors/loadtest/figures.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

enum class comparison { above, at_or_above, below, at_or_below };  // > >= < <=

struct threshold {
  const figure* fig = nullptr;
  comparison op = comparison::above;
  double limit = 0;  // in the figure's unit (µs for latencies, seconds, msgs/s, count)
  std::string text;  // as written, trimmed
};

// Fails with errc::invalid_argument (exit 65) and one line naming the item and the fix.
runtime::result<std::vector<threshold>> parse_thresholds(std::string_view text);

// True when `measured` crosses the threshold, i.e. the run fails it.
bool crossed(const threshold& t, double measured) noexcept;

// "latency p99 31.2 ms > 5.00 ms": the figure, what was measured and the limit it crossed.
std::string describe_crossing(const threshold& t, double measured);

}  // namespace sluice::actors
