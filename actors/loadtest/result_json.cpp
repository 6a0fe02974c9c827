#include "actors/loadtest/result_json.hpp"

#include <fmt/format.h>

#include <cmath>

namespace sluice::actors {

namespace {

runtime::error bad_baseline(const std::string& why) {
  return {runtime::errc::invalid_argument, "--baseline: " + why};
}

template <class F>
spread over_runs(const loadtest_result& r, F&& value) {
  std::vector<double> values;
  for (const auto& run : r.runs) values.push_back(value(run));
  return spread_of(std::move(values));
}

double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

nlohmann::json lanes_json(const loadtest_result& r) {
  nlohmann::json lanes = nlohmann::json::object();
  for (std::size_t lane = 0; lane < inbox::lane_count; ++lane) {
    bool used = false;
    for (const auto& run : r.runs) used = used || run.latency_by_lane[lane].count() != 0;
    if (!used) continue;
    auto at = [&](double p) {
      return over_runs(
          r, [&](const loadtest_run& run) { return us(run.latency_by_lane[lane].percentile(p)); });
    };
    lanes[inbox::lane_table[lane].name] = {
        {"received",
         figure_json(figure_unit::count, over_runs(r,
                                                   [&](const loadtest_run& run) {
                                                     return static_cast<double>(
                                                         run.latency_by_lane[lane].count());
                                                   }))},
        {"latency_p50_us", figure_json(figure_unit::microseconds, at(50))},
        {"latency_p99_us", figure_json(figure_unit::microseconds, at(99))},
        {"latency_p99_9_us", figure_json(figure_unit::microseconds, at(99.9))},
        {"latency_max_us", figure_json(figure_unit::microseconds,
                                       over_runs(r,
                                                 [&](const loadtest_run& run) {
                                                   return us(run.latency_by_lane[lane].max());
                                                 }))},
    };
  }
  return lanes;
}

nlohmann::json senders_json(const loadtest_result& r) {
  nlohmann::json senders = nlohmann::json::array();
  if (r.runs.empty()) return senders;
  for (std::size_t i = 0; i < r.runs.front().senders.size(); ++i) {
    // Sender i of every run (each run starts the same senders).
    auto of = [&](auto field) {
      return over_runs(r, [&](const loadtest_run& run) {
        return i < run.senders.size() ? field(run.senders[i]) : 0.0;
      });
    };
    senders.push_back({
        {"id", r.runs.front().senders[i].id},
        {"sent", figure_json(figure_unit::count, of([](const sender_summary& s) {
                               return static_cast<double>(s.sent);
                             }))},
        {"throughput_msgs_per_s",
         figure_json(figure_unit::msgs_per_s, of([](const sender_summary& s) {
                       return s.active_s > 0 ? static_cast<double>(s.sent) / s.active_s : 0.0;
                     }))},
        {"backpressure_waits", figure_json(figure_unit::count, of([](const sender_summary& s) {
                                             return static_cast<double>(s.backpressure_waits);
                                           }))},
        {"send_failures", figure_json(figure_unit::count, of([](const sender_summary& s) {
                                        return static_cast<double>(s.send_failures);
                                      }))},
        {"send_call_p50_us", figure_json(figure_unit::microseconds, of([](const sender_summary& s) {
                                           return us(s.send_call_p50_ns);
                                         }))},
        {"send_call_p99_us", figure_json(figure_unit::microseconds, of([](const sender_summary& s) {
                                           return us(s.send_call_p99_ns);
                                         }))},
        {"send_call_max_us", figure_json(figure_unit::microseconds, of([](const sender_summary& s) {
                                           return us(s.send_call_max_ns);
                                         }))},
        {"max_behind_schedule_us",
         figure_json(figure_unit::microseconds,
                     of([](const sender_summary& s) { return us(s.max_behind_schedule_ns); }))},
    });
  }
  return senders;
}

// A figure object of a result.json, read defensively: it came from a file.
std::optional<spread> read_spread(const nlohmann::json& figures, const char* key) {
  if (!figures.contains(key)) return std::nullopt;
  const auto& f = figures[key];
  if (!f.is_object() || !f.contains("mean") || !f["mean"].is_number()) return std::nullopt;
  spread s;
  s.mean = f["mean"].get<double>();
  s.stddev = f.contains("stddev") && f["stddev"].is_number() ? f["stddev"].get<double>() : 0.0;
  s.min = f.contains("min") && f["min"].is_number() ? f["min"].get<double>() : s.mean;
  s.max = f.contains("max") && f["max"].is_number() ? f["max"].get<double>() : s.mean;
  if (f.contains("values") && f["values"].is_array()) {
    for (const auto& v : f["values"]) {
      if (v.is_number()) s.values.push_back(v.get<double>());
    }
  }
  return s;
}

}  // namespace

std::vector<spread> figure_spreads(const loadtest_result& r) {
  std::vector<spread> out;
  for (std::size_t i = 0; i < figure_count; ++i) out.push_back(over_runs(r, figure_table[i].value));
  return out;
}

namespace {
// Counts as JSON integers (20000, not 20000.0); a mean of counts may still need a fraction.
nlohmann::json number(figure_unit unit, double v) {
  if (unit == figure_unit::count) {
    const double r = round_for_json(unit, v);
    if (r == v) return static_cast<std::int64_t>(r);
    return std::round(v * 1000.0) / 1000.0;
  }
  return round_for_json(unit, v);
}
}  // namespace

nlohmann::json figure_json(figure_unit unit, const spread& s) {
  nlohmann::json values = nlohmann::json::array();
  for (const double v : s.values) values.push_back(number(unit, v));
  return {{"unit", unit_name(unit)},
          {"mean", number(unit, s.mean)},
          // Three decimals whatever the unit: 0.5 lost over two runs is a fact worth keeping.
          {"stddev", std::round(s.stddev * 1000.0) / 1000.0},
          {"min", number(unit, s.min)},
          {"max", number(unit, s.max)},
          {"values", values}};
}

nlohmann::json result_document(const loadtest_result& r, const run_context& ctx) {
  nlohmann::json figures = nlohmann::json::object();
  const auto spreads = figure_spreads(r);
  for (std::size_t i = 0; i < figure_count; ++i)
    figures[figure_table[i].key] = figure_json(figure_table[i].unit, spreads[i]);
  return {
      {"schema", result_schema_id},
      {"sluice_version", ctx.sluice_version},
      {"started_at", ctx.started_at},
      {"command_line", ctx.command_line},
      {"machine",
       {{"cpu", ctx.machine.cpu},
        {"cores", ctx.machine.cores},
        {"usable_cores", ctx.machine.usable_cores},
        {"kernel", ctx.machine.kernel},
        {"hostname", ctx.machine.hostname}}},
      {"config", ctx.config},
      {"runs", r.runs.size()},
      {"figures", figures},
      {"lanes", lanes_json(r)},
      {"senders", senders_json(r)},
  };
}

std::string summary_text(const loadtest_result& r) {
  const auto spreads = figure_spreads(r);
  auto value = [&](const char* key) {
    for (std::size_t i = 0; i < figure_count; ++i) {
      if (std::string_view{figure_table[i].key} == key)
        return format_spread(figure_table[i].unit, spreads[i]);
    }
    return std::string{"?"};
  };
  std::string out;
  if (r.runs.size() > 1) out += fmt::format("{} runs: mean ± standard deviation\n", r.runs.size());
  out += fmt::format("sent {}  received {}  lost {}  duplicated {}  reordered {}\n", value("sent"),
                     value("received"), value("lost"), value("duplicated"), value("reordered"));
  out +=
      fmt::format("throughput {} over {}\n", value("throughput_msgs_per_s"), value("duration_s"));
  out += fmt::format("latency (from when due)   p50 {}  p90 {}  p99 {}  p99.9 {}  max {}\n",
                     value("latency_p50_us"), value("latency_p90_us"), value("latency_p99_us"),
                     value("latency_p99_9_us"), value("latency_max_us"));
  out += fmt::format("service time (from send)  p50 {}  p99 {}  p99.9 {}  max {}\n",
                     value("service_time_p50_us"), value("service_time_p99_us"),
                     value("service_time_p99_9_us"), value("service_time_max_us"));
  out += fmt::format("backpressure waits {}  send failures {}  breaker trips {}\n",
                     value("backpressure_waits"), value("send_failures"), value("breaker_trips"));
  return out;
}

const char* to_string(change_verdict v) noexcept {
  switch (v) {
    case change_verdict::unchanged:
      return "unchanged";
    case change_verdict::within_spread:
      return "within spread";
    case change_verdict::better:
      return "better";
    case change_verdict::worse:
      return "worse";
    case change_verdict::changed:
      return "changed";
  }
  return "changed";
}

runtime::result<std::vector<figure_change>> compare_with_baseline(const nlohmann::json& baseline,
                                                                  const nlohmann::json& now) {
  if (!baseline.is_object() || !baseline.contains("schema") || !baseline["schema"].is_string()) {
    return bad_baseline(
        "not a sluice loadtest result.json (no \"schema\"); give the result.json of an earlier "
        "run");
  }
  if (baseline["schema"] != result_schema_id) {
    return bad_baseline("its schema is " + baseline["schema"].get<std::string>() +
                        ", this sluice writes and reads " + result_schema_id);
  }
  if (!baseline.contains("figures") || !baseline["figures"].is_object()) {
    return bad_baseline("it has no \"figures\" object; give the result.json of an earlier run");
  }
  std::vector<figure_change> out;
  for (std::size_t i = 0; i < figure_count; ++i) {
    const figure& f = figure_table[i];
    const auto before = read_spread(baseline["figures"], f.key);
    const auto after = read_spread(now["figures"], f.key);
    if (!before || !after) continue;
    figure_change c;
    c.fig = &f;
    c.before = *before;
    c.after = *after;
    if (c.before.mean != 0)
      c.change_pct = (c.after.mean - c.before.mean) / std::fabs(c.before.mean) * 100.0;
    const double difference = c.after.mean - c.before.mean;
    const double noise = c.before.stddev + c.after.stddev;
    if (difference == 0) {
      c.verdict = change_verdict::unchanged;
    } else if (std::fabs(difference) <= noise) {
      c.verdict = change_verdict::within_spread;
    } else if (f.direction == better::either) {
      c.verdict = change_verdict::changed;
    } else {
      const bool lower = difference < 0;
      c.verdict =
          lower == (f.direction == better::lower) ? change_verdict::better : change_verdict::worse;
    }
    out.push_back(std::move(c));
  }
  return out;
}

nlohmann::json baseline_json(const std::string& file, const nlohmann::json& baseline,
                             const std::vector<figure_change>& changes) {
  nlohmann::json figures = nlohmann::json::object();
  for (const auto& c : changes) {
    figures[c.fig->key] = {
        {"before", number(c.fig->unit, c.before.mean)},
        {"after", number(c.fig->unit, c.after.mean)},
        {"change_pct", c.change_pct ? nlohmann::json(std::round(*c.change_pct * 10.0) / 10.0)
                                    : nlohmann::json(nullptr)},
        {"verdict", to_string(c.verdict)}};
  }
  auto text = [&](const char* key) {
    return baseline.contains(key) && baseline[key].is_string() ? baseline[key].get<std::string>()
                                                               : std::string{};
  };
  return {{"file", file},
          {"started_at", text("started_at")},
          {"sluice_version", text("sluice_version")},
          {"figures", figures}};
}

std::string baseline_table(const std::vector<figure_change>& changes) {
  std::string out;
  for (const auto& c : changes) {
    const std::string change =
        c.change_pct ? fmt::format("{:+.1f} %", *c.change_pct) : std::string{"-"};
    out += fmt::format("  {:<20} {:>16}  ->  {:<16} {:>9}  {}\n", c.fig->label,
                       format_spread(c.fig->unit, c.before), format_spread(c.fig->unit, c.after),
                       change, to_string(c.verdict));
  }
  return out;
}

std::vector<threshold_outcome> check_thresholds(const std::vector<threshold>& limits,
                                                const loadtest_result& r) {
  std::vector<threshold_outcome> out;
  for (const auto& t : limits) {
    const double measured = over_runs(r, t.fig->value).mean;
    out.push_back({t, measured, crossed(t, measured)});
  }
  return out;
}

nlohmann::json thresholds_json(const std::vector<threshold_outcome>& outcomes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : outcomes) {
    out.push_back({{"text", o.limit.text},
                   {"figure", o.limit.fig->key},
                   {"limit", number(o.limit.fig->unit, o.limit.limit)},
                   {"measured", number(o.limit.fig->unit, o.measured)},
                   {"failed", o.crossed}});
  }
  return out;
}

}  // namespace sluice::actors
