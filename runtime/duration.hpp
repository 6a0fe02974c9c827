#pragma once
// Human durations for flags, environment variables and sluice.toml: "250ms", "5s", "1.5",
// "2m". A bare number is seconds, as the bash tool's RATE_LIMIT_CHECK_INTERVAL was.
#include <chrono>
#include <string_view>

#include "runtime/result.hpp"

namespace sluice::runtime {

// Accepts <number>[ns|us|ms|s|m|h], number decimal with an optional fraction; no sign, no
// spaces. `what` names the flag/variable/key in the error ("RATE_LIMIT_CHECK_INTERVAL").
// Fails with errc::invalid_argument on anything else, or when the value overflows.
result<std::chrono::nanoseconds> parse_duration(std::string_view text, std::string_view what);

}  // namespace sluice::runtime
