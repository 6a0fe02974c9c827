#include "runtime/duration.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

namespace sluice::runtime {
namespace {

struct unit_scale {
  std::string_view suffix;
  double ns;
};
// Longest suffixes first so "ms" is not read as "m" + garbage.
constexpr unit_scale units[] = {{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6},
                                {"s", 1e9},  {"m", 60e9}, {"h", 3600e9}};

error bad(std::string_view text, std::string_view what, const char* why) {
  return error{errc::invalid_argument,
               std::string(what) + "='" + std::string(text) + "' " + why +
                   "; use a number of seconds (1.5) or a number with ns, us, ms, s, m or h "
                   "(250ms, 5s, 2m)"};
}

}  // namespace

result<std::chrono::nanoseconds> parse_duration(std::string_view text, std::string_view what) {
  if (text.empty()) return bad(text, what, "is empty");
  std::size_t digits_end = 0;
  bool seen_dot = false;
  bool seen_digit = false;
  for (; digits_end < text.size(); ++digits_end) {
    const char c = text[digits_end];
    if (c >= '0' && c <= '9') {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return bad(text, what, "is not a duration");
  const std::string_view number = text.substr(0, digits_end);
  const std::string_view suffix = text.substr(digits_end);

  double scale = 1e9;  // a bare number is seconds
  if (!suffix.empty()) {
    bool known = false;
    for (const auto& u : units) {
      if (suffix == u.suffix) {
        scale = u.ns;
        known = true;
        break;
      }
    }
    if (!known) return bad(text, what, "has an unknown unit");
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc{} || end != number.data() + number.size()) {
    return bad(text, what, "is not a duration");
  }
  const double ns = value * scale;
  if (!std::isfinite(ns) || ns >= static_cast<double>(std::numeric_limits<std::int64_t>::max())) {
    return bad(text, what, "is too large");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
}

}  // namespace sluice::runtime
