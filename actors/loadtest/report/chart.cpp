#include "actors/loadtest/report/chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sluice::actors {

namespace {

// Okabe & Ito, "Color Universal Design" (2008), without its yellow and its black.
const char* const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00"};
constexpr std::size_t palette_size = sizeof palette / sizeof palette[0];
const char* const dashes[] = {"", "7 3", "2 2", "9 3 2 3"};
constexpr std::size_t dash_count = sizeof dashes / sizeof dashes[0];
static_assert(palette_size * dash_count == distinct_series_styles);

constexpr double chart_width = 760;
constexpr double plot_height = 220;
constexpr double font = 11;
constexpr double row = 16;  // one line of 11 px text with its gap

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string num(double v) {
  return fmt::format("{:.1f}", v);
}

}  // namespace

line_style series_style(std::size_t n) {
  return {palette[n % palette_size], dashes[(n / palette_size) % dash_count], 1.8};
}

const line_style& total_style() {
  static const line_style s{"#000000", "", 2.6};
  return s;
}

const line_style& target_style() {
  static const line_style s{"#777777", "10 5", 1.6};
  return s;
}

double text_width(const std::string& text, double font_px) {
  // 0.62 em per character: above the average of system sans-serif fonts (about 0.55 em for
  // digits and lower case), so estimates err towards more room.
  return static_cast<double>(code_points(text)) * font_px * 0.62;
}

std::string escape_html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<tick> nice_ticks(double min, double& max, int count, std::string (*format)(double)) {
  const double range = max - min;
  double step = 1;
  if (range > 0) {
    const double raw = range / count;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / mag;
    step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  }
  max = min + std::ceil(range / step - 1e-9) * step;
  if (max <= min) max = min + step;
  std::vector<tick> ticks;
  for (int i = 0;; ++i) {
    const double at = min + i * step;
    if (at > max + step / 2) break;
    // Multiplying instead of adding keeps 0.3 from reading 0.30000000000000004.
    ticks.push_back({at, format(std::round(at / step * 1e6) / 1e6 * step)});
  }
  return ticks;
}

std::string render_svg(const chart& c) {
  // Horizontal layout: the rotated axis label, then the widest y tick label, then the plot;
  // on the right room for half of the last x tick label.
  double y_tick_w = 0;
  for (const auto& t : c.y.ticks) y_tick_w = std::max(y_tick_w, text_width(t.label));
  const double left = 8 + font + 10 + y_tick_w + 8;
  const double last_x_tick_w = c.x.ticks.empty() ? 0 : text_width(c.x.ticks.back().label);
  const double right = std::max(16.0, last_x_tick_w / 2 + 6);
  const double plot_w = chart_width - left - right;
  auto px = [&](double x) {
    return left + (c.x.max > c.x.min ? (x - c.x.min) / (c.x.max - c.x.min) : 0.5) * plot_w;
  };

  // Vertical layout: title, note, marker label rows, plot, x ticks, x label, legend rows.
  double y = 22;
  std::string head = fmt::format(R"(<text x="{}" y="{}" class="title">{}</text>)"
                                 "\n",
                                 num(left), num(y), escape_html(c.title));
  if (!c.note.empty()) {
    y += row;
    head += fmt::format(R"(<text x="{}" y="{}" class="note">{}</text>)"
                        "\n",
                        num(left), num(y), escape_html(c.note));
  }
  struct placed {
    double x0, x1;
    std::size_t row;
    const chart_marker* m;
  };
  std::vector<placed> labels;
  std::vector<const chart_marker*> markers;
  for (const auto& m : c.markers) markers.push_back(&m);
  std::sort(markers.begin(), markers.end(),
            [](const auto* a, const auto* b) { return a->x < b->x; });
  std::vector<double> row_end;  // right edge of the last label in each row
  for (const auto* m : markers) {
    const double w = text_width(m->label);
    const double x0 = std::clamp(px(m->x) - w / 2, 2.0, chart_width - 2 - w);
    std::size_t r = 0;
    while (r < row_end.size() && row_end[r] + 8 > x0) ++r;
    if (r == row_end.size()) row_end.push_back(0);
    row_end[r] = x0 + w;
    labels.push_back({x0, x0 + w, r, m});
  }
  const double marker_top = y + 6;
  const double top = marker_top + static_cast<double>(row_end.size()) * row + 8;
  const double bottom = top + plot_height;
  auto py = [&](double v) {
    const double f = c.y.max > c.y.min ? (v - c.y.min) / (c.y.max - c.y.min) : 0;
    return bottom - f * plot_height;
  };

  // Legend rows under the x axis label.
  struct entry {
    double x, y;
    std::string name;
    line_style style;
  };
  std::vector<entry> legend;
  double lx = left;
  double ly = bottom + 2 * row + 26;
  std::size_t automatic = 0;
  std::vector<line_style> styles;
  for (const auto& s : c.series) {
    styles.push_back(s.style ? *s.style : series_style(automatic++));
    const double w = 22 + text_width(s.name) + 16;
    if (lx > left && lx + w > left + plot_w) {
      lx = left;
      ly += row;
    }
    legend.push_back({lx, ly, s.name, styles.back()});
    lx += w;
  }
  const double height = (legend.empty() ? bottom + 2 * row + 12 : ly + 10) + 4;

  std::string svg = fmt::format(
      R"(<svg id="{}" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">)"
      "\n",
      c.id, chart_width, num(height), chart_width, num(height), escape_html(c.title));
  svg += fmt::format(
      R"(<defs><clipPath id="{}-plot"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath></defs>)"
      "\n",
      c.id, num(left), num(top), num(plot_w), num(plot_height));
  svg += head;
  for (const auto& t : c.y.ticks) {
    svg += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" class="grid"/>)"
                       R"(<text x="{}" y="{}" class="ytick">{}</text>)"
                       "\n",
                       num(left), num(py(t.at)), num(left + plot_w), num(py(t.at)), num(left - 8),
                       num(py(t.at) + 4), escape_html(t.label));
  }
  for (const auto& t : c.x.ticks) {
    svg += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" class="grid"/>)"
                       R"(<text x="{}" y="{}" class="xtick">{}</text>)"
                       "\n",
                       num(px(t.at)), num(top), num(px(t.at)), num(bottom), num(px(t.at)),
                       num(bottom + row + 3), escape_html(t.label));
  }
  svg += fmt::format(R"(<text x="{}" y="{}" class="xtick">{}</text>)"
                     "\n",
                     num(left + plot_w / 2), num(bottom + 2 * row + 8), escape_html(c.x.label));
  svg +=
      fmt::format(R"svg(<text transform="translate({} {}) rotate(-90)" class="xtick">{}</text>)svg"
                  "\n",
                  num(8 + font), num(top + plot_height / 2), escape_html(c.y.label));
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" class="axes"/>)"
                     "\n",
                     num(left), num(top), num(plot_w), num(plot_height));

  bool drew = false;
  for (const auto& b : c.bars) {
    const double x0 = px(b.x0);
    const double x1 = px(b.x1);
    const double y0 = py(std::min(b.y, c.y.max));
    svg += fmt::format(
        R"(<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>)"
        "\n",
        num(x0 + 0.5), num(y0), num(std::max(1.0, x1 - x0 - 1)), num(bottom - y0),
        escape_html(b.tooltip));
    drew = true;
  }
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const auto& s = c.series[i];
    const auto& st = styles[i];
    if (s.points.empty()) continue;
    drew = true;
    const std::string dash =
        st.dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", st.dash);
    if (s.points.size() == 1) {
      svg += fmt::format(
          R"svg(<circle cx="{}" cy="{}" r="3" fill="{}" clip-path="url(#{}-plot)"><title>{}</title></circle>)svg"
          "\n",
          num(px(s.points[0].x)), num(py(s.points[0].y)), st.color, c.id, escape_html(s.name));
      continue;
    }
    std::string pts;
    for (const auto& p : s.points) pts += num(px(p.x)) + "," + num(py(p.y)) + " ";
    pts.pop_back();
    svg += fmt::format(
        R"svg(<polyline class="series" points="{}" stroke="{}" stroke-width="{}"{} clip-path="url(#{}-plot)"><title>{}</title></polyline>)svg"
        "\n",
        pts, st.color, st.width, dash, c.id, escape_html(s.name));
  }
  for (const auto& l : labels) {
    const double x = px(l.m->x);
    const double label_y = marker_top + static_cast<double>(l.row + 1) * row - 4;
    svg += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" class="mark"/>)"
                       R"(<text x="{}" y="{}" class="marklabel">{}</text>)"
                       "\n",
                       num(x), num(top), num(x), num(bottom), num(l.x0), num(label_y),
                       escape_html(l.m->label));
  }
  for (const auto& e : legend) {
    const std::string dash =
        e.style.dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", e.style.dash);
    svg += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"{}/>)"
                       R"(<text x="{}" y="{}" class="legend">{}</text>)"
                       "\n",
                       num(e.x), num(e.y - 4), num(e.x + 18), num(e.y - 4), e.style.color,
                       e.style.width, dash, num(e.x + 22), num(e.y), escape_html(e.name));
  }
  if (!drew) {
    svg +=
        fmt::format(R"(<text x="{}" y="{}" class="xtick">{}</text>)"
                    "\n",
                    num(left + plot_w / 2), num(top + plot_height / 2), escape_html(c.empty_text));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace sluice::actors
