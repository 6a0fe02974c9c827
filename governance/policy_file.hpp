#pragma once
// Reading a policy file (policy.hpp has the format): every problem is reported as
// "FILE:LINE: what is wrong and what to write instead", all of them, not only the first, so
// `sluice policy check` lists everything to fix in one go.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "governance/policy.hpp"

namespace sluice::governance {

struct parsed_policy {
  std::optional<policy> value;      // set when there are no errors
  std::vector<std::string> errors;  // "FILE:LINE: message", in file order
};

// `name` is what errors call the file.
parsed_policy parse_policy(std::string_view text, const std::string& name);

// Reads and parses a file; a file that cannot be read is one error naming it.
parsed_policy load_policy(const std::filesystem::path& file);

// "N/UNIT": N units per UNIT, UNIT one of s, m, h, d or a duration ("5m", "250ms", "1.5h").
struct rate_value {
  std::uint64_t count = 0;
  std::int64_t period_ns = 0;
};
// Empty when the text is a rate; else what is wrong.
std::optional<std::string> parse_rate(std::string_view text, rate_value& out);

// "N/PERIOD" for a quota: PERIOD h|hour, d|day, month|mo (calendar periods in UTC).
std::optional<std::string> parse_quota(std::string_view text, std::uint64_t& amount,
                                       quota_period& period);

}  // namespace sluice::governance
