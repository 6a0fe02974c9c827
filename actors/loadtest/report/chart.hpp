#pragma once
// Small self-contained SVG charts for the load-test report: lines and bars on linear axes (a
// caller wanting a log or "nines" axis transforms its data and names the ticks), vertical
// markers, and a legend below the plot. Layout is computed from text widths estimated on the
// generous side, so no label is cut at an edge or drawn over another: margins grow to fit the
// longest tick label, marker labels that would collide move to a row of their own, and legend
// entries wrap onto as many rows as they need.
//
// Colours: the Okabe-Ito palette (distinguishable with every common colour-vision
// deficiency; its yellow left out, too pale on white). Series beyond its six colours repeat
// them with a different dash pattern, so 24 series stay distinct; black is kept for totals.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace sluice::actors {

struct tick {
  double at;
  std::string label;
};

struct axis {
  std::string label;
  double min = 0;
  double max = 1;
  std::vector<tick> ticks;
};

struct line_style {
  std::string color;
  std::string dash;  // SVG stroke-dasharray, empty: solid
  double width = 1.8;
};

// The style of the n-th automatic series: colour n % 6, dash pattern (n / 6) % 4.
line_style series_style(std::size_t n);
inline constexpr std::size_t distinct_series_styles = 24;
const line_style& total_style();   // black, thicker: a sum over the other series
const line_style& target_style();  // grey, dashed: what was asked for

struct point {
  double x;
  double y;
};

struct chart_series {
  std::string name;
  std::vector<point> points;        // drawn in order; a run of one point is drawn as a dot
  std::optional<line_style> style;  // default: the next automatic style
};

struct chart_bar {
  double x0, x1, y;  // from x0 to x1, up from the axis minimum to y
  std::string tooltip;
};

struct chart_marker {
  double x;
  std::string label;  // shown above the plot, never over the data
};

struct chart {
  std::string id;
  std::string title;
  std::string note;  // one line under the title (what is plotted, sampling), may be empty
  axis x;
  axis y;
  std::vector<chart_series> series;
  std::vector<chart_bar> bars;
  std::vector<chart_marker> markers;
  std::string empty_text = "no data";  // shown when there is nothing to draw
};

// The chart as one <svg> element with id, a viewBox and a <title> per series.
std::string render_svg(const chart& c);

// Ticks at a 1-2-5 step giving about `count` intervals over [min, max]; max is raised to the
// last tick. format names each tick.
std::vector<tick> nice_ticks(double min, double& max, int count, std::string (*format)(double));

// Estimated width in pixels of text at the report's chart font (11 px), on the generous side.
double text_width(const std::string& text, double font_px = 11);

std::string escape_html(const std::string& text);

}  // namespace sluice::actors
