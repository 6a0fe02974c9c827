#pragma once
// Counts for flags and variables: "100", "1e6". Whole numbers only, no sign, range-checked, so
// a typo or an overflowing value is an error naming the flag, never a wrapped or huge count.
#include <cstdint>
#include <string_view>

#include "runtime/result.hpp"

namespace sluice::runtime {

// Accepts decimal digits, or digits with an exponent ("1e6", "2.5e3") when the value is whole.
// Fails with errc::invalid_argument ("--max wants a whole number from 1 to 1000000, not 'x'")
// when the text is anything else or the value lies outside [min, max].
result<std::uint64_t> parse_count(std::string_view text, std::string_view what, std::uint64_t min,
                                  std::uint64_t max);

}  // namespace sluice::runtime
