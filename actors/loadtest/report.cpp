#include "actors/loadtest/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <system_error>
#include <vector>

#include "runtime/cli/verb.hpp"

namespace sluice::actors {

namespace {

// Divides by the inverse of the unit so 197.6 stays 197.6 rather than 197.60000000000002.
double round_to(double v, double unit) { return std::round(v / unit) / (1.0 / unit); }
double us(std::uint64_t ns) { return round_to(static_cast<double>(ns) / 1000.0, 0.1); }

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Short labels for axes: 1200 -> "1.2k", 3400000 -> "3.4M".
std::string si(double v) {
  const double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:g}G", round_to(v / 1e9, 0.1));
  if (a >= 1e6) return fmt::format("{:g}M", round_to(v / 1e6, 0.1));
  if (a >= 1e3) return fmt::format("{:g}k", round_to(v / 1e3, 0.1));
  return fmt::format("{:g}", round_to(v, a < 1 ? 0.01 : 0.1));
}

// Four significant digits at most: "1.442 ms", "99.09 ms", "850 µs" (never an exponent).
std::string latency_label(double micros) {
  if (micros >= 1e6) return fmt::format("{:.4g} s", micros / 1e6);
  if (micros >= 1e3) return fmt::format("{:.4g} ms", micros / 1e3);
  return fmt::format("{:.4g} µs", micros);
}

// A "nice" axis step (1, 2 or 5 times a power of ten) giving about `ticks` intervals.
double nice_step(double range, int ticks) {
  if (range <= 0) return 1;
  const double raw = range / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
  return nice * mag;
}

const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                               "#9467bd", "#8c564b", "#e377c2", "#17becf"};

struct frame {
  double width = 760, height = 280, left = 72, right = 20, top = 34, bottom = 46;
  double plot_w() const { return width - left - right; }
  double plot_h() const { return height - top - bottom; }
};

struct line_series {
  std::string name;
  const std::vector<actors::sample_point>* points;
};

std::string line_chart(const std::string& id, const std::string& title, const std::string& y_label,
                       const std::vector<line_series>& series, double y_floor_max,
                       std::string (*y_fmt)(double)) {
  const frame f;
  double x_max = 0;
  double y_max = y_floor_max;
  for (const auto& s : series) {
    for (const auto& p : *s.points) {
      x_max = std::max(x_max, p.t_s);
      y_max = std::max(y_max, p.value);
    }
  }
  if (x_max <= 0) x_max = 1;
  const double y_step = nice_step(y_max, 5);
  y_max = std::ceil(y_max / y_step) * y_step;
  const double x_step = nice_step(x_max, 8);
  auto px = [&](double x) { return f.left + x / x_max * f.plot_w(); };
  auto py = [&](double y) { return f.top + f.plot_h() - y / y_max * f.plot_h(); };

  std::string svg = fmt::format(
      R"(<svg id="{}" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">)"
      "\n",
      id, f.width, f.height, f.width, f.height, escape_html(title));
  svg += fmt::format(R"(<text x="{}" y="20" class="title">{}</text>)" "\n", f.left, escape_html(title));
  for (double y = 0; y <= y_max + y_step / 2; y += y_step) {
    svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="grid"/>)"
                       R"(<text x="{:.1f}" y="{:.1f}" class="ytick">{}</text>)" "\n",
                       f.left, py(y), f.left + f.plot_w(), py(y), f.left - 6, py(y) + 4, y_fmt(y));
  }
  for (double x = 0; x <= x_max + x_step / 2; x += x_step) {
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xtick">{:g}</text>)" "\n", px(x),
                       f.top + f.plot_h() + 16, round_to(x, 0.01));
  }
  svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xtick">time since start (s)</text>)" "\n",
                     f.left + f.plot_w() / 2, f.height - 6);
  svg += fmt::format(R"svg(<text transform="translate(14 {:.1f}) rotate(-90)" class="xtick">{}</text>)svg" "\n",
                     f.top + f.plot_h() / 2, escape_html(y_label));
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" class="axes"/>)" "\n", f.left, f.top,
                     f.plot_w(), f.plot_h());
  std::size_t color = 0;
  for (const auto& s : series) {
    const char* stroke = palette[color++ % std::size(palette)];
    if (s.points->empty()) continue;
    std::string pts;
    for (const auto& p : *s.points) pts += fmt::format("{:.1f},{:.1f} ", px(p.t_s), py(p.value));
    svg += fmt::format(R"(<polyline class="series" points="{}" stroke="{}"><title>{}</title></polyline>)" "\n",
                       pts, stroke, escape_html(s.name));
  }
  // Legend, top right, one row per series.
  double ly = f.top + 12;
  color = 0;
  for (const auto& s : series) {
    const char* stroke = palette[color++ % std::size(palette)];
    svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="10" height="10" fill="{}"/>)"
                       R"(<text x="{:.1f}" y="{:.1f}" class="legend">{}</text>)" "\n",
                       f.left + f.plot_w() - 150, ly - 9, stroke, f.left + f.plot_w() - 135, ly,
                       escape_html(s.name));
    ly += 15;
  }
  if (series.empty() || x_max <= 0) {
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xtick">no samples</text>)", px(x_max / 2),
                       py(y_max / 2));
  }
  svg += "</svg>\n";
  return svg;
}

std::string percent_label(double v) { return fmt::format("{:g}%", round_to(v * 100, 0.1)); }

// Latency distribution on a log time axis: 10 bins per decade, bar height = share of messages.
std::string latency_chart(const actors::latency_histogram& h) {
  const frame f;
  const std::string title = "End-to-end latency distribution";
  std::string svg = fmt::format(
      R"(<svg id="latency-chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">)"
      "\n",
      f.width, f.height, f.width, f.height, title);
  svg += fmt::format(R"(<text x="{}" y="20" class="title">{}</text>)" "\n", f.left, title);
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" class="axes"/>)" "\n", f.left, f.top,
                     f.plot_w(), f.plot_h());
  if (h.count() == 0) {
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xtick">no messages received</text>)" "\n</svg>\n",
                       f.left + f.plot_w() / 2, f.top + f.plot_h() / 2);
    return svg;
  }
  constexpr int bins_per_decade = 10;
  const double lo_us = std::max(0.1, static_cast<double>(h.min()) / 1000.0);
  const double hi_us = std::max(lo_us * 10, static_cast<double>(h.max()) / 1000.0);
  const double d_lo = std::floor(std::log10(lo_us));
  const double d_hi = std::ceil(std::log10(hi_us));
  const int bins = static_cast<int>((d_hi - d_lo) * bins_per_decade);
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(bins), 0);
  for (const auto& b : h.buckets()) {
    const double mid_us = std::max(lo_us, (static_cast<double>(b.low) + static_cast<double>(b.high)) / 2000.0);
    const int i = std::clamp(static_cast<int>((std::log10(mid_us) - d_lo) * bins_per_decade), 0, bins - 1);
    counts[static_cast<std::size_t>(i)] += b.count;
  }
  const double total = static_cast<double>(h.count());
  double share_max = 0;
  for (const auto c : counts) share_max = std::max(share_max, static_cast<double>(c) / total);
  const double y_step = nice_step(share_max, 4);
  const double y_max = std::ceil(share_max / y_step) * y_step;
  auto px = [&](double log_us) { return f.left + (log_us - d_lo) / (d_hi - d_lo) * f.plot_w(); };
  auto py = [&](double share) { return f.top + f.plot_h() - share / y_max * f.plot_h(); };
  for (double y = 0; y <= y_max + y_step / 2; y += y_step) {
    svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="grid"/>)"
                       R"(<text x="{:.1f}" y="{:.1f}" class="ytick">{}</text>)" "\n",
                       f.left, py(y), f.left + f.plot_w(), py(y), f.left - 6, py(y) + 4, percent_label(y));
  }
  for (double d = d_lo; d <= d_hi + 0.5; d += 1) {
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xtick">{}</text>)" "\n", px(d),
                       f.top + f.plot_h() + 16, latency_label(std::pow(10.0, d)));
  }
  svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xtick">latency (log scale)</text>)" "\n",
                     f.left + f.plot_w() / 2, f.height - 6);
  svg += fmt::format(R"svg(<text transform="translate(14 {:.1f}) rotate(-90)" class="xtick">share of messages</text>)svg" "\n",
                     f.top + f.plot_h() / 2);
  const double bar_w = f.plot_w() / bins;
  for (int i = 0; i < bins; ++i) {
    const auto c = counts[static_cast<std::size_t>(i)];
    if (c == 0) continue;
    const double share = static_cast<double>(c) / total;
    const double from_us = std::pow(10.0, d_lo + static_cast<double>(i) / bins_per_decade);
    svg += fmt::format(
        R"(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"><title>{} .. {}: {} messages</title></rect>)"
        "\n",
        f.left + i * bar_w + 0.5, py(share), std::max(1.0, bar_w - 1), f.top + f.plot_h() - py(share),
        latency_label(round_to(from_us, 0.1)), latency_label(round_to(from_us * std::pow(10.0, 1.0 / bins_per_decade), 0.1)), c);
  }
  const struct {
    const char* name;
    double p;
  } marks[] = {{"p50", 50}, {"p99", 99}, {"p99.9", 99.9}};
  double label_y = f.top + 12;
  for (const auto& m : marks) {
    const double v_us = std::max(lo_us, static_cast<double>(h.percentile(m.p)) / 1000.0);
    const double x = px(std::log10(v_us));
    svg += fmt::format(R"(<line x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" class="mark"/>)"
                       R"(<text x="{:.1f}" y="{:.1f}" class="legend">{} {}</text>)" "\n",
                       x, f.top, x, f.top + f.plot_h(), x + 4, label_y, m.name, latency_label(round_to(v_us, 0.1)));
    label_y += 14;
  }
  svg += "</svg>\n";
  return svg;
}

std::string totals_table(const nlohmann::json& j) {
  std::string rows;
  auto row = [&](const char* name, const std::string& value) {
    rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", name, escape_html(value));
  };
  for (const char* key : {"sent", "received", "lost", "duplicated", "reordered"}) row(key, j[key].dump());
  row("throughput", fmt::format("{} msgs/s", j["throughput_msgs_per_s"].dump()));
  for (const char* p : {"p50", "p90", "p99", "p999", "max"}) {
    row((std::string{"latency "} + p).c_str(), fmt::format("{} µs", j["latency_us"][p].dump()));
  }
  for (const char* key : {"backpressure_waits", "send_failures", "breaker_trips"}) row(key, j[key].dump());
  row("duration", fmt::format("{} s", j["duration_s"].dump()));
  return "<table class=\"totals\">\n" + rows + "</table>\n";
}

const char* const style = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 800px; }
h1 { font-size: 20px; margin-bottom: 4px; }
.meta { color: #555; margin: 2px 0; }
code { background: #f3f3f3; padding: 1px 4px; }
.verdict { display: inline-block; padding: 4px 10px; border-radius: 4px; font-weight: bold; color: #fff; }
.pass { background: #2a8a3a; } .fail { background: #c0392b; }
table.totals { border-collapse: collapse; margin: 12px 0 20px; }
table.totals th { text-align: left; padding: 2px 16px 2px 0; font-weight: normal; color: #555; }
table.totals td { text-align: right; font-variant-numeric: tabular-nums; }
svg { display: block; margin: 12px 0 24px; background: #fff; }
svg .title { font-size: 15px; font-weight: bold; }
svg .grid { stroke: #e5e5e5; }
svg .axes { fill: none; stroke: #999; }
svg .ytick { font-size: 11px; text-anchor: end; fill: #555; }
svg .xtick { font-size: 11px; text-anchor: middle; fill: #555; }
svg .legend { font-size: 11px; fill: #333; }
svg .series { fill: none; stroke-width: 1.8; }
svg .bar { fill: #1f77b4; }
svg .mark { stroke: #d62728; stroke-dasharray: 4 3; }
)";

}  // namespace

nlohmann::json loadtest_json(const actors::loadtest_result& result) {
  const auto& t = result.totals;
  const auto& h = result.latency_ns;
  return nlohmann::json{
      {"sent", t.sent},
      {"received", t.received},
      {"lost", t.lost},
      {"duplicated", t.duplicated},
      {"reordered", t.reordered},
      {"throughput_msgs_per_s", round_to(t.throughput_msgs_per_s, 0.1)},
      {"latency_us",
       {{"p50", us(h.percentile(50))},
        {"p90", us(h.percentile(90))},
        {"p99", us(h.percentile(99))},
        {"p999", us(h.percentile(99.9))},
        {"max", us(h.max())}}},
      {"backpressure_waits", t.backpressure_waits},
      {"send_failures", t.send_failures},
      {"breaker_trips", t.breaker_trips},
      {"duration_s", round_to(t.duration_s, 0.001)},
  };
}

std::string render_report_html(const actors::loadtest_result& result, const report_meta& meta) {
  const auto j = loadtest_json(result);
  const auto& t = result.totals;
  const bool pass = t.lost == 0 && t.reordered == 0 && t.duplicated == 0;
  std::vector<line_series> throughput;
  std::vector<line_series> utilization;
  for (const auto& s : result.sinks) {
    throughput.push_back({s.sink, &s.throughput_msgs_per_s});
    utilization.push_back({s.sink, &s.utilization});
  }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>sluice loadtest report</title>\n<style>" + std::string{style} + "</style>\n</head>\n<body>\n";
  html += "<h1>sluice loadtest</h1>\n";
  html += fmt::format("<p class=\"meta\"><code>{}</code></p>\n", escape_html(meta.command_line));
  html += fmt::format("<p class=\"meta\">{} &middot; started {}</p>\n", escape_html(meta.setup),
                      escape_html(meta.started_at));
  html += fmt::format("<p><span class=\"verdict {}\">{}</span></p>\n", pass ? "pass" : "fail",
                      pass ? "nothing lost, duplicated or reordered"
                           : fmt::format("{} lost, {} duplicated, {} reordered", t.lost, t.duplicated, t.reordered));
  html += totals_table(j);
  html += line_chart("throughput-chart", "Throughput per sink", "messages per second", throughput, 1, si);
  html += latency_chart(result.latency_ns);
  html += line_chart("utilization-chart", "Inbox utilization per sink", "fill of regular slots", utilization,
                     0.05, percent_label);
  html += "</body>\n</html>\n";
  return html;
}

void write_report(const std::filesystem::path& dir, const actors::loadtest_result& result,
                  const report_meta& meta) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw cli::cli_error{cli::exit_code::os_error,
                    fmt::format("cannot create report directory {}: {}", dir.string(), ec.message())};
  }
  auto write = [](const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      throw cli::cli_error{cli::exit_code::io_error, fmt::format("cannot write {}: {}", path.string(), std::strerror(errno))};
    }
  };
  write(dir / "index.html", render_report_html(result, meta));
  write(dir / "result.json", loadtest_json(result).dump(2) + "\n");
}

}  // namespace sluice::actors
