#include "actors/loadtest/report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>
#include <vector>

#include "actors/loadtest/figures.hpp"
#include "actors/loadtest/report/chart.hpp"
#include "actors/loadtest/report/percentiles.hpp"
#include "actors/loadtest/result_json.hpp"
#include "runtime/atomic_file.hpp"
#include "runtime/cli/verb.hpp"

namespace sluice::actors {

namespace {

// ---- values as the page shows them: the figures' unit style everywhere ----

std::string seconds_label(double s) {
  return fmt::format("{:g}", std::round(s * 1000.0) / 1000.0);
}
// "57.9k": a rate in the figures' style, without the unit the axis label already names.
std::string rate_label(double v) {
  std::string s = format_tick(figure_unit::msgs_per_s, v);
  s.erase(s.find("msgs/s"));
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}
std::string percent_label(double v) {
  return fmt::format("{:g}%", std::round(v * 10.0) / 10.0);
}
std::string latency_tick(double log_ns) {
  return format_tick(figure_unit::microseconds, std::pow(10.0, log_ns) / 1000.0);
}

std::string json_text(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return {};
    at = &(*at)[key];
  }
  if (at->is_string()) return at->get<std::string>();
  if (at->is_null()) return {};
  return at->dump();
}

double json_number(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return 0;
    at = &(*at)[key];
  }
  return at->is_number() ? at->get<double>() : 0;
}

// ---- axes ----

axis time_axis(double end_s) {
  axis a;
  a.label = "time since the senders started (s)";
  a.min = 0;
  a.max = std::max(end_s, 1e-3);
  a.ticks = nice_ticks(0, a.max, 8, seconds_label);
  return a;
}

// A log10 axis of nanoseconds from lo to hi, ticks at each decade (and at 2 and 5 when the
// range spans less than two decades).
axis latency_axis(double lo_ns, double hi_ns, const std::string& label) {
  axis a;
  a.label = label;
  lo_ns = std::max(lo_ns, 1.0);
  hi_ns = std::max(hi_ns, lo_ns * 1.5);
  a.min = std::floor(std::log10(lo_ns));
  a.max = std::ceil(std::log10(hi_ns));
  if (a.max <= a.min) a.max = a.min + 1;
  for (double d = a.min; d <= a.max + 1e-9; d += 1) {
    a.ticks.push_back({d, latency_tick(d)});
    if (a.max - a.min < 2 && d < a.max) {
      for (const double m : {2.0, 5.0})
        a.ticks.push_back({d + std::log10(m), latency_tick(d + std::log10(m))});
    }
  }
  return a;
}

// The "nines" axis: x = log10(1 / (1 - p)), so 90 %, 99 %, 99.9 % ... are equally spaced.
double nines(double percentile) {
  return std::log10(100.0 / (100.0 - percentile));
}

axis nines_axis(double max_nines) {
  axis a;
  a.label = "percentile";
  a.min = 0;
  a.max = std::clamp(std::ceil(max_nines), 2.0, 7.0);
  for (int k = 0; k <= static_cast<int>(a.max); ++k) {
    std::string label = "0%";
    if (k > 0) label = fmt::format("{:.{}f}%", 100.0 - std::pow(10.0, 2 - k), std::max(0, k - 2));
    a.ticks.push_back({static_cast<double>(k), label});
  }
  return a;
}

// ---- charts ----

const char* lane_name(std::size_t lane) {
  return inbox::lane_table[lane].name;
}

latency_histogram merged(const loadtest_result& r, latency_histogram loadtest_run::*which) {
  latency_histogram h;
  for (const auto& run : r.runs) h.merge(run.*which);
  return h;
}

std::string interval_text(const loadtest_run& run) {
  return format_latency_ns(static_cast<double>(run.interval_ns()));
}

std::string which_run(const loadtest_result& r) {
  return r.runs.size() > 1 ? fmt::format("run {} of {}; ", r.runs.size(), r.runs.size())
                           : std::string{};
}

std::string throughput_chart(const loadtest_result& r, double target) {
  const auto& run = r.runs.back();
  chart c;
  c.id = "throughput-chart";
  c.title = "Throughput";
  c.note =
      which_run(r) + "messages received per second in each " + interval_text(run) + " interval";
  const double w = static_cast<double>(run.interval_ns()) / 1e9;
  const double end = std::max(run.totals.duration_s, w);
  std::size_t intervals = 0;
  for (const auto& s : run.sinks) intervals = std::max(intervals, s.received.size());
  // The last interval ends with the run, not a whole width later.
  auto width_of = [&](std::size_t i) {
    return std::max(1e-6, std::min(w, end - static_cast<double>(i) * w));
  };
  auto centre_of = [&](std::size_t i) { return static_cast<double>(i) * w + width_of(i) / 2; };
  std::vector<double> total(intervals, 0);
  double y_max = target;
  for (const auto& s : run.sinks) {
    chart_series line{s.sink, {}, std::nullopt};
    for (std::size_t i = 0; i < s.received.size(); ++i) {
      const double rate = static_cast<double>(s.received[i]) / width_of(i);
      total[i] += rate;
      line.points.push_back({centre_of(i), rate});
    }
    if (run.sinks.size() > 1) c.series.push_back(std::move(line));
  }
  chart_series sum{run.sinks.size() > 1 ? "total" : "received", {}, total_style()};
  for (std::size_t i = 0; i < intervals; ++i) {
    sum.points.push_back({centre_of(i), total[i]});
    y_max = std::max(y_max, total[i]);
  }
  c.series.push_back(std::move(sum));
  if (target > 0)
    c.series.push_back({"target (rate x senders)", {{0, target}, {end, target}}, target_style()});
  c.x = time_axis(end);
  c.y.label = "messages per second";
  c.y.max = std::max(1.0, y_max * 1.05);
  c.y.ticks = nice_ticks(0, c.y.max, 5, rate_label);
  c.empty_text = "no messages received";
  return render_svg(c);
}

std::string latency_over_time_chart(const loadtest_result& r) {
  const auto& run = r.runs.back();
  chart c;
  c.id = "latency-over-time-chart";
  c.title = "Latency over time";
  c.note = which_run(r) + "latency of the messages that arrived in each " + interval_text(run) +
           " interval";
  const double w = static_cast<double>(run.interval_ns()) / 1e9;
  chart_series p50{"p50", {}, std::nullopt};
  chart_series p99{"p99", {}, std::nullopt};
  chart_series max{"max", {}, std::nullopt};
  double lo = 0;
  double hi = 0;
  const auto& cells = run.latency_over_time.cells();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].count() == 0) continue;
    const double t = (static_cast<double>(i) + 0.5) * w;
    const auto v50 = static_cast<double>(std::max<std::uint64_t>(1, cells[i].percentile(50)));
    const auto v99 = static_cast<double>(std::max<std::uint64_t>(1, cells[i].percentile(99)));
    const auto vmax = static_cast<double>(std::max<std::uint64_t>(1, cells[i].max()));
    p50.points.push_back({t, std::log10(v50)});
    p99.points.push_back({t, std::log10(v99)});
    max.points.push_back({t, std::log10(vmax)});
    lo = lo == 0 ? v50 : std::min(lo, v50);
    hi = std::max(hi, vmax);
  }
  c.series = {p50, p99, max};
  c.x = time_axis(std::max(run.totals.duration_s, w));
  c.y = latency_axis(lo, hi, "latency (log scale)");
  c.empty_text = "no messages received";
  return render_svg(c);
}

struct named_histogram {
  std::string name;
  const latency_histogram* h;
};

std::string percentile_chart(const std::string& id, const std::string& title,
                             const std::string& note, const std::vector<named_histogram>& curves) {
  chart c;
  c.id = id;
  c.title = title;
  c.note = note;
  double lo = 0;
  double hi = 0;
  double max_nines = 2;
  for (const auto& curve : curves) {
    chart_series s{curve.name, {}, std::nullopt};
    for (const auto& p : percentile_distribution(*curve.h)) {
      if (p.percentile >= 100.0) continue;  // 100 % lies at infinity on this axis
      const auto v = static_cast<double>(std::max<std::uint64_t>(1, p.value));
      s.points.push_back({nines(p.percentile), std::log10(v)});
      lo = lo == 0 ? v : std::min(lo, v);
      hi = std::max(hi, v);
      max_nines = std::max(max_nines, nines(p.percentile));
    }
    c.series.push_back(std::move(s));
  }
  c.x = nines_axis(max_nines);
  c.y = latency_axis(lo, hi, "latency (log scale)");
  c.empty_text = "no messages received";
  return render_svg(c);
}

std::string distribution_chart(const latency_histogram& h) {
  chart c;
  c.id = "latency-chart";
  c.title = "Latency distribution";
  c.note = "share of messages per latency bin (10 bins per decade)";
  c.x.label = "latency (log scale)";
  c.y.label = "share of messages";
  c.empty_text = "no messages received";
  if (h.count() == 0) {
    c.x.max = 1;
    c.y.max = 1;
    return render_svg(c);
  }
  constexpr int bins_per_decade = 10;
  const double lo = std::max(1.0, static_cast<double>(h.min()));
  const double hi = std::max(lo * 10, static_cast<double>(h.max()));
  c.x = latency_axis(lo, hi, "latency (log scale)");
  const int bins = static_cast<int>(std::lround((c.x.max - c.x.min) * bins_per_decade));
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(bins), 0);
  for (const auto& b : h.buckets()) {
    const double mid =
        std::max(1.0, (static_cast<double>(b.low) + static_cast<double>(b.high)) / 2);
    const int i =
        std::clamp(static_cast<int>((std::log10(mid) - c.x.min) * bins_per_decade), 0, bins - 1);
    counts[static_cast<std::size_t>(i)] += b.count;
  }
  const double total = static_cast<double>(h.count());
  double share_max = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    const double share = static_cast<double>(counts[i]) / total * 100.0;
    share_max = std::max(share_max, share);
    const double x0 = c.x.min + static_cast<double>(i) / bins_per_decade;
    const double x1 = x0 + 1.0 / bins_per_decade;
    c.bars.push_back(
        {x0, x1, share,
         fmt::format("{} to {}: {} messages", latency_tick(x0), latency_tick(x1), counts[i])});
  }
  c.y.max = std::max(1.0, share_max * 1.05);
  c.y.ticks = nice_ticks(0, c.y.max, 4, percent_label);
  for (const auto& [name, p] :
       {std::pair{"p50", 50.0}, std::pair{"p99", 99.0}, std::pair{"p99.9", 99.9}}) {
    const auto v = static_cast<double>(std::max<std::uint64_t>(1, h.percentile(p)));
    c.markers.push_back({std::log10(v), std::string{name} + " " + format_latency_ns(v)});
  }
  return render_svg(c);
}

// One point per interval of `t` that has samples, at the interval's centre (w seconds wide);
// peak grows to the largest value.
template <class Value>
chart_series level_line(std::string name, const timeline<level_cell>& t, double w, Value value,
                        std::optional<line_style> style, double& peak) {
  chart_series line{std::move(name), {}, style};
  const auto& cells = t.cells();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].samples == 0) continue;
    const double v = value(cells[i]);
    line.points.push_back({(static_cast<double>(i) + 0.5) * w, v});
    peak = std::max(peak, v);
  }
  return line;
}

std::string utilization_chart(const loadtest_result& r) {
  const auto& run = r.runs.back();
  chart c;
  c.id = "utilization-chart";
  c.title = "Inbox utilisation";
  c.note = which_run(r) + "fullest each sink's regular slots were in each " + interval_text(run) +
           " interval (read every 5 ms)";
  const double w = static_cast<double>(run.interval_ns()) / 1e9;
  double peak = 0;
  for (const auto& s : run.sinks)
    c.series.push_back(level_line(
        s.sink, s.utilization, w, [](const level_cell& x) { return x.max * 100.0; }, std::nullopt,
        peak));
  c.x = time_axis(std::max(run.totals.duration_s, w));
  c.y.label = "fill of regular slots";
  // A fill is at most 100 %; the axis ends there, or lower for an inbox that stayed emptier.
  c.y.max = std::clamp(peak * 1.1, 10.0, 100.0);
  c.y.ticks = nice_ticks(0, c.y.max, 5, percent_label);
  return render_svg(c);
}

std::string waits_chart(const loadtest_result& r) {
  const auto& run = r.runs.back();
  chart c;
  c.id = "waits-chart";
  c.title = "Backpressure waits";
  c.note = which_run(r) + "senders' waits for room in a full inbox, per second, in each " +
           interval_text(run) + " interval";
  const double w = static_cast<double>(run.interval_ns()) / 1e9;
  double peak = 0;
  c.series.push_back(level_line(
      "all senders", run.backpressure_waits, w, [w](const level_cell& x) { return x.sum / w; },
      total_style(), peak));
  c.x = time_axis(std::max(run.totals.duration_s, w));
  c.y.label = "waits per second";
  c.y.max = std::max(1.0, peak * 1.05);
  c.y.ticks = nice_ticks(0, c.y.max, 5, rate_label);
  return render_svg(c);
}

// ---- tables ----

std::string figures_table(const loadtest_result& r, const nlohmann::json& doc) {
  const bool has_baseline = doc.contains("baseline");
  const auto spreads = figure_spreads(r);
  std::string html = "<table class=\"figures\" id=\"figures-table\">\n<tr><th>figure</th><th>";
  html += r.runs.size() > 1 ? fmt::format("mean ± stddev of {} runs", r.runs.size()) : "value";
  html += "</th>";
  if (has_baseline) html += "<th>baseline</th><th>change</th><th></th>";
  html += "</tr>\n";
  for (std::size_t i = 0; i < figure_count; ++i) {
    const auto& f = figure_table[i];
    html += fmt::format("<tr><th>{}</th><td>{}</td>", escape_html(f.label),
                        escape_html(format_spread(f.unit, spreads[i])));
    if (has_baseline) {
      const auto& b = doc["baseline"]["figures"];
      if (b.contains(f.key)) {
        const auto& c = b[f.key];
        const std::string change = c["change_pct"].is_number()
                                       ? fmt::format("{:+.1f} %", c["change_pct"].get<double>())
                                       : "-";
        const std::string verdict = c["verdict"].get<std::string>();
        html += fmt::format("<td>{}</td><td>{}</td><td class=\"{}\">{}</td>",
                            escape_html(format_figure(f.unit, c["before"].get<double>())),
                            escape_html(change),
                            verdict == "better"  ? "better"
                            : verdict == "worse" ? "worse"
                                                 : "same",
                            escape_html(verdict));
      } else {
        html += "<td>-</td><td>-</td><td></td>";
      }
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string thresholds_list(const nlohmann::json& doc) {
  if (!doc.contains("thresholds")) return {};
  std::string html = "<h2>Thresholds (--fail-if)</h2>\n<ul class=\"thresholds\">\n";
  for (const auto& t : doc["thresholds"]) {
    const auto* f = find_figure(t["figure"].get<std::string>());
    const bool failed = t["failed"].get<bool>();
    html += fmt::format("<li class=\"{}\">{}: {} (measured {})</li>\n", failed ? "worse" : "better",
                        failed ? "FAILED" : "passed", escape_html(t["text"].get<std::string>()),
                        escape_html(f ? format_figure(f->unit, t["measured"].get<double>())
                                      : t["measured"].dump()));
  }
  return html + "</ul>\n";
}

std::string mean_of(const nlohmann::json& fig, figure_unit unit) {
  if (!fig.is_object() || !fig.contains("mean")) return "-";
  return format_figure(unit, fig["mean"].get<double>());
}

std::string lanes_table(const nlohmann::json& doc) {
  const auto& lanes = doc["lanes"];
  std::string html =
      "<table class=\"grid\" id=\"lane-table\">\n<tr><th>lane</th><th>received</th><th>latency "
      "p50</th>"
      "<th>p99</th><th>p99.9</th><th>max</th></tr>\n";
  for (std::size_t lane = inbox::lane_count; lane-- > 0;) {
    if (!lanes.contains(lane_name(lane))) continue;
    const auto& l = lanes[lane_name(lane)];
    html +=
        fmt::format("<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    lane_name(lane), mean_of(l["received"], figure_unit::count),
                    mean_of(l["latency_p50_us"], figure_unit::microseconds),
                    mean_of(l["latency_p99_us"], figure_unit::microseconds),
                    mean_of(l["latency_p99_9_us"], figure_unit::microseconds),
                    mean_of(l["latency_max_us"], figure_unit::microseconds));
  }
  return html + "</table>\n";
}

std::string senders_table(const nlohmann::json& doc) {
  std::string html =
      "<table class=\"grid\" "
      "id=\"sender-table\">\n<tr><th>sender</th><th>sent</th><th>throughput</th>"
      "<th>backpressure waits</th><th>send failures</th><th>send call "
      "p50</th><th>p99</th><th>max</th>"
      "<th>most behind schedule</th></tr>\n";
  for (const auto& s : doc["senders"]) {
    html += fmt::format(
        "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</"
        "td><td>{}</td></tr>\n",
        s["id"].get<std::uint32_t>(), mean_of(s["sent"], figure_unit::count),
        mean_of(s["throughput_msgs_per_s"], figure_unit::msgs_per_s),
        mean_of(s["backpressure_waits"], figure_unit::count),
        mean_of(s["send_failures"], figure_unit::count),
        mean_of(s["send_call_p50_us"], figure_unit::microseconds),
        mean_of(s["send_call_p99_us"], figure_unit::microseconds),
        mean_of(s["send_call_max_us"], figure_unit::microseconds),
        mean_of(s["max_behind_schedule_us"], figure_unit::microseconds));
  }
  return html + "</table>\n";
}

// A configuration key as people read it: "consumer_delay_us": 200 -> "consumer delay": "200 µs".
std::pair<std::string, std::string> setup_row(std::string key, const nlohmann::json& value) {
  auto ends = [&](const char* suffix) {
    const std::string s{suffix};
    if (key.size() <= s.size() || key.compare(key.size() - s.size(), s.size(), s) != 0)
      return false;
    key.erase(key.size() - s.size());
    return true;
  };
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (value.is_number()) {
    const double v = value.get<double>();
    if (ends("_us"))
      text = format_figure(figure_unit::microseconds, v);
    else if (ends("_ms"))
      text = format_figure(figure_unit::microseconds, v * 1000.0);
    else if (ends("_msgs_per_s"))
      text = format_figure(figure_unit::msgs_per_s, v);
    else if (ends("_s"))
      text = format_figure(figure_unit::seconds, v);
    else if (ends("_bytes"))
      text = fmt::format("{:g} B", v);
    else
      text = fmt::format("{:g}", v);
  } else if (value.is_object()) {
    text.clear();
    for (const auto& [k, v] : value.items())
      text += (text.empty() ? "" : ", ") + k + ":" + v.dump();
  }
  for (auto& c : key) c = c == '_' ? ' ' : c;
  return {key, text};
}

std::string setup_table(const nlohmann::json& doc) {
  std::string rows;
  auto row = [&](const std::string& name, const std::string& value) {
    rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape_html(name), escape_html(value));
  };
  row("sluice", json_text(doc, {"sluice_version"}));
  row("started", json_text(doc, {"started_at"}));
  row("runs", json_text(doc, {"runs"}));
  row("machine",
      fmt::format("{}, {} cores ({} usable), {}", json_text(doc, {"machine", "cpu"}),
                  json_text(doc, {"machine", "cores"}), json_text(doc, {"machine", "usable_cores"}),
                  json_text(doc, {"machine", "kernel"})));
  if (doc.contains("config") && doc["config"].is_object()) {
    for (const auto& [key, value] : doc["config"].items()) {
      const auto [name, text] = setup_row(key, value);
      row(name, text);
    }
  }
  return "<table class=\"setup\" id=\"setup-table\">\n" + rows + "</table>\n";
}

const char* const style = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 800px; }
h1 { font-size: 20px; margin-bottom: 4px; }
h2 { font-size: 16px; margin: 28px 0 4px; }
.meta { color: #555; margin: 2px 0; }
code { background: #f3f3f3; padding: 1px 4px; }
.verdict { display: inline-block; padding: 4px 10px; border-radius: 4px; font-weight: bold; color: #fff; }
.pass { background: #0072B2; } .fail { background: #D55E00; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th { text-align: left; padding: 2px 14px 2px 0; font-weight: normal; color: #555; }
td { text-align: right; padding: 2px 0 2px 14px; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.grid th, table.grid td { border-bottom: 1px solid #eee; }
table.setup td { text-align: left; white-space: normal; }
.better { color: #0072B2; } .worse { color: #D55E00; font-weight: bold; } .same { color: #555; }
svg { display: block; margin: 8px 0 16px; background: #fff; }
svg .title { font-size: 15px; font-weight: bold; }
svg .note { font-size: 11px; fill: #555; }
svg .grid { stroke: #e5e5e5; }
svg .axes { fill: none; stroke: #999; }
svg .ytick { font-size: 11px; text-anchor: end; fill: #555; }
svg .xtick { font-size: 11px; text-anchor: middle; fill: #555; }
svg .legend, svg .marklabel { font-size: 11px; fill: #333; }
svg .series { fill: none; stroke-linejoin: round; }
svg .bar { fill: #56B4E9; }
svg .mark { stroke: #D55E00; stroke-dasharray: 4 3; }
)";

void write_file(const std::filesystem::path& path, const std::string& text) {
  if (auto written = runtime::write_file_atomically(path, text); !written) {
    throw cli::cli_error{runtime::exit_code_for(written.err().code), written.err().message};
  }
}

}  // namespace

std::string render_report_html(const loadtest_result& result, const nlohmann::json& doc) {
  loadtest_result r = result;
  if (r.runs.empty()) r.runs.emplace_back();  // an empty report still renders, with "no data"
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  for (const auto& run : r.runs) {
    lost += run.totals.lost;
    duplicated += run.totals.duplicated;
    reordered += run.totals.reordered;
  }
  const bool pass = lost == 0 && reordered == 0 && duplicated == 0;
  const auto latency = merged(r, &loadtest_run::latency_ns);
  const auto service = merged(r, &loadtest_run::service_ns);
  const double target = json_number(doc, {"config", "target_throughput_msgs_per_s"});
  const std::string over_runs =
      r.runs.size() > 1 ? fmt::format(" over all {} runs", r.runs.size()) : "";

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>sluice loadtest report</title>\n<style>" + std::string{style} +
          "</style>\n</head>\n<body>\n";
  html += "<h1>sluice loadtest</h1>\n";
  html += fmt::format("<p class=\"meta\"><code>{}</code></p>\n",
                      escape_html(json_text(doc, {"command_line"})));
  html += fmt::format(
      "<p class=\"meta\">sluice {} &middot; started {} &middot; {} &middot; {} cores</p>\n",
      escape_html(json_text(doc, {"sluice_version"})), escape_html(json_text(doc, {"started_at"})),
      escape_html(json_text(doc, {"machine", "cpu"})),
      escape_html(json_text(doc, {"machine", "cores"})));
  html += fmt::format(
      "<p><span class=\"verdict {}\">{}</span></p>\n", pass ? "pass" : "fail",
      pass ? std::string{"nothing lost, duplicated or reordered"}
           : fmt::format("{} lost, {} duplicated, {} reordered", lost, duplicated, reordered));
  html += "<h2>Figures</h2>\n";
  html +=
      "<p class=\"meta\">Latency runs from when a message was due (its sender's schedule with "
      "--rate) to its "
      "arrival; service time from when its send began. Without --rate they are the same.</p>\n";
  html += figures_table(r, doc);
  html += thresholds_list(doc);
  html += "<h2>Over time</h2>\n";
  html += throughput_chart(r, target);
  html += latency_over_time_chart(r);
  html += utilization_chart(r);
  if (r.runs.back().totals.backpressure_waits > 0) html += waits_chart(r);
  html += "<h2>Latency</h2>\n";
  html += percentile_chart(
      "percentile-chart", "Latency by percentile",
      "latency and service time" + over_runs + "; export: latency.hgrm, service-time.hgrm",
      {{"latency (from when due)", &latency}, {"service time (from send)", &service}});
  std::vector<latency_histogram> lanes(inbox::lane_count);
  std::vector<named_histogram> lane_curves;
  for (std::size_t lane = inbox::lane_count; lane-- > 0;) {
    for (const auto& run : r.runs) lanes[lane].merge(run.latency_by_lane[lane]);
    if (lanes[lane].count() != 0) lane_curves.push_back({lane_name(lane), &lanes[lane]});
  }
  if (lane_curves.size() > 1) {
    html += percentile_chart("lane-chart", "Latency by lane", "latency per lane" + over_runs,
                             lane_curves);
  }
  if (doc.contains("lanes") && !doc["lanes"].empty()) html += lanes_table(doc);
  html += distribution_chart(latency);
  html += "<h2>Senders</h2>\n";
  if (doc.contains("senders")) html += senders_table(doc);
  html += "<h2>Setup</h2>\n";
  html += setup_table(doc);
  html += "</body>\n</html>\n";
  return html;
}

void write_report(const std::filesystem::path& dir, const loadtest_result& result,
                  const nlohmann::json& doc) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw cli::cli_error{
        cli::exit_code::os_error,
        fmt::format("cannot create report directory {}: {}", dir.string(), ec.message())};
  }
  write_file(dir / "index.html", render_report_html(result, doc));
  write_file(dir / "result.json", doc.dump(2) + "\n");
  write_file(dir / "latency.hgrm", hgrm_text(merged(result, &loadtest_run::latency_ns), 1000.0));
  write_file(dir / "service-time.hgrm",
             hgrm_text(merged(result, &loadtest_run::service_ns), 1000.0));
}

}  // namespace sluice::actors
