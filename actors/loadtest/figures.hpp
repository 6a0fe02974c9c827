#pragma once
// The figures a load test reports, in one table: each has its JSON key in result.json
// (docs/loadtest-result.md), the label people read in the summary and the report, its unit,
// which direction is better, and the short name --fail-if accepts. The summary, result.json,
// --repeat's mean and spread, --baseline's comparison, --fail-if and the report's table all
// loop over this table, so a new figure is one row.
//
// Pure logic: no clock, no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/loadtest/result.hpp"

namespace sluice::actors {

enum class figure_unit {
  count,         // messages, waits, ...: a whole number
  microseconds,  // latencies; shown auto-scaled (850 µs, 31.2 ms, 1.25 s)
  msgs_per_s,    // shown with k / M (57.9k msgs/s)
  seconds,
};

enum class better { lower, higher, either };  // either: a size of the run, not a quality

struct figure {
  const char* key;    // result.json "figures" key, e.g. latency_p99_9_us
  const char* label;  // e.g. "latency p99.9"
  const char* alias;  // --fail-if name, e.g. "p99.9"; the key is accepted too
  figure_unit unit;
  better direction;
  double (*value)(const loadtest_run&);
};

extern const figure figure_table[];
extern const std::size_t figure_count;

// By --fail-if alias or by key; nullptr when neither matches.
const figure* find_figure(std::string_view name) noexcept;

// A figure over several runs: the mean, the sample standard deviation (0 for one run), the
// smallest and largest value, and every value in run order.
struct spread {
  double mean = 0;
  double stddev = 0;
  double min = 0;
  double max = 0;
  std::vector<double> values;
};
spread spread_of(std::vector<double> values);

// One value as people read it, in the figure's unit style: "31.2 ms", "57.9k msgs/s",
// "20000", "0.345 s". Every human-facing number goes through here (summary, report, --fail-if
// and --baseline lines), so one figure reads the same everywhere.
std::string format_figure(figure_unit unit, double value);
// The same scaling, compact for axis ticks: trailing zeros dropped ("10 ms", "50k msgs/s").
std::string format_tick(figure_unit unit, double value);
// Mean, and "± stddev" when there was more than one run.
std::string format_spread(figure_unit unit, const spread& s);
// A latency in nanoseconds, auto-scaled: "850 µs", "31.2 ms" (the microseconds style).
std::string format_latency_ns(double ns);

// Round to a figure's resolution in result.json: latencies to the nanosecond (3 decimals of
// µs), rates to 0.1, seconds to the millisecond, counts whole.
double round_for_json(figure_unit unit, double value);

const char* unit_name(figure_unit unit) noexcept;  // "count", "us", "msgs/s", "s" (result.json)

}  // namespace sluice::actors
