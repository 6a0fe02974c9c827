#include "runtime/count.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace sluice::runtime {

result<std::uint64_t> parse_count(std::string_view text, std::string_view what, std::uint64_t min,
                                  std::uint64_t max) {
  const auto refuse = [&] {
    return error{errc::invalid_argument, std::string(what) + " wants a whole number from " +
                                             std::to_string(min) + " to " + std::to_string(max) +
                                             " (e.g. 100 or 1e6), not '" + std::string(text) + "'"};
  };
  if (text.empty() || text.find_first_not_of("0123456789.eE") != std::string_view::npos ||
      !(text[0] >= '0' && text[0] <= '9'))
    return refuse();
  const char* begin = text.data();
  const char* end = begin + text.size();
  std::uint64_t whole = 0;
  if (auto [stop, ec] = std::from_chars(begin, end, whole); ec == std::errc{} && stop == end) {
    if (whole < min || whole > max) return refuse();
    return whole;
  }
  double value = 0;
  const auto [stop, ec] = std::from_chars(begin, end, value, std::chars_format::scientific);
  if (ec != std::errc{} || stop != end || !(value >= 0) || std::floor(value) != value ||
      value > 1.8e19 || static_cast<std::uint64_t>(value) < min ||
      static_cast<std::uint64_t>(value) > max)
    return refuse();
  return static_cast<std::uint64_t>(value);
}

}  // namespace sluice::runtime
