#include "actors/loadtest/figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sluice::actors {

namespace {

double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}
double latency_at(const loadtest_run& r, double p) {
  return us(r.latency_ns.percentile(p));
}
double service_at(const loadtest_run& r, double p) {
  return us(r.service_ns.percentile(p));
}

// Three significant digits, never an exponent: 1.23, 12.3, 123 (judged after rounding, so
// 9.996 reads 10.0, not 10.00).
std::string three_digits(double v) {
  const double a = std::fabs(v);
  if (a >= 99.95 || a == 0) return fmt::format("{:.0f}", v);
  if (a >= 9.995) return fmt::format("{:.1f}", v);
  if (a >= 0.9995) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}

// At most three significant digits, trailing zeros dropped: 10, 2.5, 0.25.
std::string compact(double v) {
  return fmt::format("{:.3g}", v);
}

// The largest step of `steps` (ascending) that v reaches once rounded to three digits, so
// 999.7 µs reads "1.00 ms", not "1000 µs".
template <std::size_t N>
std::string scaled(double v, const std::pair<double, const char*> (&steps)[N],
                   std::string (*digits)(double) = three_digits) {
  std::size_t pick = 0;
  for (std::size_t i = 1; i < N; ++i) {
    if (std::fabs(v) >= steps[i].first * 0.9995) pick = i;
  }
  return digits(v / steps[pick].first) + steps[pick].second;
}

const std::pair<double, const char*> latency_steps[] = {
    {1, " ns"}, {1e3, " µs"}, {1e6, " ms"}, {1e9, " s"}};
const std::pair<double, const char*> rate_steps[] = {
    {1, " msgs/s"}, {1e3, "k msgs/s"}, {1e6, "M msgs/s"}, {1e9, "G msgs/s"}};

}  // namespace

// clang-format off
const figure figure_table[] = {
  {"sent", "sent", "sent", figure_unit::count, better::either,
   [](const loadtest_run& r) { return static_cast<double>(r.totals.sent); }},
  {"received", "received", "received", figure_unit::count, better::either,
   [](const loadtest_run& r) { return static_cast<double>(r.totals.received); }},
  {"lost", "lost", "lost", figure_unit::count, better::lower,
   [](const loadtest_run& r) { return static_cast<double>(r.totals.lost); }},
  {"duplicated", "duplicated", "duplicated", figure_unit::count, better::lower,
   [](const loadtest_run& r) { return static_cast<double>(r.totals.duplicated); }},
  {"reordered", "reordered", "reordered", figure_unit::count, better::lower,
   [](const loadtest_run& r) { return static_cast<double>(r.totals.reordered); }},
  {"throughput_msgs_per_s", "throughput", "throughput", figure_unit::msgs_per_s, better::higher,
   [](const loadtest_run& r) { return r.totals.throughput_msgs_per_s; }},
  {"latency_p50_us", "latency p50", "p50", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return latency_at(r, 50); }},
  {"latency_p90_us", "latency p90", "p90", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return latency_at(r, 90); }},
  {"latency_p99_us", "latency p99", "p99", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return latency_at(r, 99); }},
  {"latency_p99_9_us", "latency p99.9", "p99.9", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return latency_at(r, 99.9); }},
  {"latency_p99_99_us", "latency p99.99", "p99.99", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return latency_at(r, 99.99); }},
  {"latency_max_us", "latency max", "max", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return us(r.latency_ns.max()); }},
  {"latency_mean_us", "latency mean", "mean", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return r.latency_ns.mean() / 1000.0; }},
  {"service_time_p50_us", "service time p50", "service-p50", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return service_at(r, 50); }},
  {"service_time_p99_us", "service time p99", "service-p99", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return service_at(r, 99); }},
  {"service_time_p99_9_us", "service time p99.9", "service-p99.9", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return service_at(r, 99.9); }},
  {"service_time_max_us", "service time max", "service-max", figure_unit::microseconds, better::lower,
   [](const loadtest_run& r) { return us(r.service_ns.max()); }},
  {"backpressure_waits", "backpressure waits", "waits", figure_unit::count, better::lower,
   [](const loadtest_run& r) { return static_cast<double>(r.totals.backpressure_waits); }},
  {"send_failures", "send failures", "send-failures", figure_unit::count, better::lower,
   [](const loadtest_run& r) { return static_cast<double>(r.totals.send_failures); }},
  {"breaker_trips", "breaker trips", "breaker-trips", figure_unit::count, better::lower,
   [](const loadtest_run& r) { return static_cast<double>(r.totals.breaker_trips); }},
  {"duration_s", "duration", "duration", figure_unit::seconds, better::either,
   [](const loadtest_run& r) { return r.totals.duration_s; }},
};
// clang-format on
const std::size_t figure_count = sizeof figure_table / sizeof figure_table[0];

const figure* find_figure(std::string_view name) noexcept {
  for (std::size_t i = 0; i < figure_count; ++i) {
    if (name == figure_table[i].alias || name == figure_table[i].key) return &figure_table[i];
  }
  return nullptr;
}

spread spread_of(std::vector<double> values) {
  spread s;
  if (values.empty()) return s;
  const auto n = static_cast<double>(values.size());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  if (values.size() > 1) {
    double squares = 0;
    for (const double v : values) squares += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(squares / (n - 1));
  }
  s.values = std::move(values);
  return s;
}

std::string format_latency_ns(double ns) {
  return scaled(ns, latency_steps);
}

std::string format_tick(figure_unit unit, double value) {
  switch (unit) {
    case figure_unit::microseconds:
      return scaled(value * 1000.0, latency_steps, compact);
    case figure_unit::msgs_per_s:
      return scaled(value, rate_steps, compact);
    case figure_unit::seconds:
      return compact(value) + " s";
    case figure_unit::count:
      return compact(value);
  }
  return compact(value);
}

std::string format_figure(figure_unit unit, double value) {
  switch (unit) {
    case figure_unit::count:
      // A mean over runs need not be whole: 0.5 lost is one run of two losing one message.
      return std::floor(value) == value ? fmt::format("{:.0f}", value)
                                        : fmt::format("{:.1f}", value);
    case figure_unit::microseconds:
      return value == 0 ? "0 µs" : format_latency_ns(value * 1000.0);
    case figure_unit::msgs_per_s:
      return scaled(value, rate_steps);
    case figure_unit::seconds:
      return three_digits(value) + " s";
  }
  return fmt::format("{}", value);
}

std::string format_spread(figure_unit unit, const spread& s) {
  if (s.values.size() <= 1) return format_figure(unit, s.mean);
  // A spread below the figure's resolution in result.json is none.
  const double stddev =
      round_for_json(unit == figure_unit::count ? figure_unit::microseconds : unit, s.stddev);
  return format_figure(unit, s.mean) + " ± " + format_figure(unit, stddev);
}

double round_for_json(figure_unit unit, double value) {
  switch (unit) {
    case figure_unit::count:
      return std::round(value);
    case figure_unit::microseconds:
      return std::round(value * 1000.0) / 1000.0;
    case figure_unit::msgs_per_s:
      return std::round(value * 10.0) / 10.0;
    case figure_unit::seconds:
      return std::round(value * 1000.0) / 1000.0;
  }
  return value;
}

const char* unit_name(figure_unit unit) noexcept {
  switch (unit) {
    case figure_unit::count:
      return "count";
    case figure_unit::microseconds:
      return "us";
    case figure_unit::msgs_per_s:
      return "msgs/s";
    case figure_unit::seconds:
      return "s";
  }
  return "count";
}

}  // namespace sluice::actors
