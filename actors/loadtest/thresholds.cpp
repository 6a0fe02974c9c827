#include "actors/loadtest/thresholds.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace sluice::actors {

namespace {

constexpr const char* example = "e.g. 'p99>5ms,lost>0,throughput<100k'";

runtime::error bad(const std::string& why) {
  return {runtime::errc::invalid_argument, "--fail-if: " + why};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string known_names() {
  std::string names;
  for (std::size_t i = 0; i < figure_count; ++i)
    names += (i == 0 ? "" : ", ") + std::string{figure_table[i].alias};
  return names;
}

const char* op_text(comparison op) {
  switch (op) {
    case comparison::above:
      return ">";
    case comparison::at_or_above:
      return ">=";
    case comparison::below:
      return "<";
    case comparison::at_or_below:
      return "<=";
  }
  return "?";
}

// The number and its suffix; false when there is no number or something follows the suffix.
bool split_number(std::string_view text, double& number, std::string& suffix) {
  const std::string s{text};
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return false;
  errno = 0;
  char* end = nullptr;
  number = std::strtod(s.c_str(), &end);
  if (errno != 0 || end == s.c_str() || !std::isfinite(number)) return false;
  suffix = std::string{trim(std::string_view{end})};
  return true;
}

// The limit in the figure's unit, or why the value does not fit the figure.
runtime::result<double> limit_in_unit(const figure& f, std::string_view item,
                                      std::string_view value) {
  double number = 0;
  std::string suffix;
  if (!split_number(value, number, suffix)) {
    return bad("'" + std::string{item} + "' has no number after the comparison; " + example);
  }
  const bool is_time = f.unit == figure_unit::microseconds || f.unit == figure_unit::seconds;
  if (is_time) {
    double ns_per = 0;
    if (suffix == "ns")
      ns_per = 1;
    else if (suffix == "us" || suffix == "µs")
      ns_per = 1e3;
    else if (suffix == "ms")
      ns_per = 1e6;
    else if (suffix == "s")
      ns_per = 1e9;
    if (ns_per == 0) {
      return bad("'" + std::string{item} + "': " + f.alias +
                 " is a time and wants a unit (ns, us, ms or s), e.g. " + f.alias + ">5ms");
    }
    const double ns = number * ns_per;
    return f.unit == figure_unit::microseconds ? ns / 1e3 : ns / 1e9;
  }
  double scale = 0;
  if (suffix.empty())
    scale = 1;
  else if (suffix == "k" || suffix == "K")
    scale = 1e3;
  else if (suffix == "M")
    scale = 1e6;
  else if (suffix == "G")
    scale = 1e9;
  if (scale == 0) {
    return bad("'" + std::string{item} + "': " + f.alias +
               " takes a plain number or one with k, M or G, not '" + suffix + "'");
  }
  return number * scale;
}

}  // namespace

runtime::result<std::vector<threshold>> parse_thresholds(std::string_view text) {
  std::vector<threshold> out;
  if (trim(text).empty()) return bad(std::string{"wants at least one FIGURE<op>VALUE, "} + example);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    const std::size_t at = item.find_first_of("<>");
    if (at == std::string_view::npos || at == 0) {
      return bad("'" + std::string{item} + "' is not FIGURE<op>VALUE with op one of > >= < <=; " +
                 example);
    }
    threshold t;
    t.text = std::string{item};
    const std::string_view name = trim(item.substr(0, at));
    const bool greater = item[at] == '>';
    const bool or_equal = at + 1 < item.size() && item[at + 1] == '=';
    t.op = greater ? (or_equal ? comparison::at_or_above : comparison::above)
                   : (or_equal ? comparison::at_or_below : comparison::below);
    t.fig = find_figure(name);
    if (t.fig == nullptr) {
      return bad("unknown figure '" + std::string{name} + "' in '" + std::string{item} +
                 "'; use one of " + known_names() + " (or a result.json key)");
    }
    auto limit = limit_in_unit(*t.fig, item, trim(item.substr(at + (or_equal ? 2 : 1))));
    if (!limit) return limit.err();
    t.limit = *limit;
    out.push_back(std::move(t));
  }
  return out;
}

bool crossed(const threshold& t, double measured) noexcept {
  switch (t.op) {
    case comparison::above:
      return measured > t.limit;
    case comparison::at_or_above:
      return measured >= t.limit;
    case comparison::below:
      return measured < t.limit;
    case comparison::at_or_below:
      return measured <= t.limit;
  }
  return false;
}

std::string describe_crossing(const threshold& t, double measured) {
  return std::string{t.fig->label} + " " + format_figure(t.fig->unit, measured) + " " +
         op_text(t.op) + " " + format_figure(t.fig->unit, t.limit);
}

}  // namespace sluice::actors
