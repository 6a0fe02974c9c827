#include "monitors/load_sources.hpp"

#include <charconv>

namespace sluice::monitors {
namespace {

// Reads the value of `key=` from a PSI line such as "some avg10=1.00 avg60=0.50 ...".
template <class T>
bool field(std::string_view line, std::string_view key, T& out) noexcept {
  const auto at = line.find(key);
  if (at == std::string_view::npos) return false;
  const auto* first = line.data() + at + key.size();
  const auto [end, ec] = std::from_chars(first, line.data() + line.size(), out);
  return ec == std::errc{} && end != first;
}

std::optional<psi_line> parse_psi_line(std::string_view line) noexcept {
  psi_line l;
  if (!field(line, " avg10=", l.avg10) || !field(line, " avg60=", l.avg60) ||
      !field(line, " avg300=", l.avg300) || !field(line, " total=", l.total_us))
    return std::nullopt;
  return l;
}

}  // namespace

std::optional<psi_reading> parse_psi(std::string_view text) noexcept {
  std::optional<psi_line> some, full;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.substr(0, 5) == "some ")
      some = parse_psi_line(line.substr(4));
    else if (line.substr(0, 5) == "full ")
      full = parse_psi_line(line.substr(4));
  }
  if (!some) return std::nullopt;
  return psi_reading{*some, full};
}

double psi_load(const psi_reading& r) noexcept {
  const double v = r.some.avg10 / 100.0;
  return v < 0 ? 0 : (v > 1 ? 1 : v);
}

std::optional<double> parse_loadavg(std::string_view text) noexcept {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end == text.data() || v < 0) return std::nullopt;
  return v;
}

}  // namespace sluice::monitors
