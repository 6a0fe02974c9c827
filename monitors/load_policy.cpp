#include "monitors/load_policy.hpp"

namespace sluice::monitors {

const char* to_string(load_level l) noexcept {
  switch (l) {
    case load_level::low:
      return "low";
    case load_level::medium:
      return "medium";
    case load_level::high:
      return "high";
  }
  return "unknown";
}

std::optional<std::string> validate(const load_policy_config& c) {
  if (!(c.medium >= 0 && c.medium < c.high))
    return "RATE_LIMIT_MEDIUM_LOAD_THRESHOLD must be >= 0 and below RATE_LIMIT_HIGH_LOAD_THRESHOLD";
  if (!(c.band >= 0 && c.band < c.medium))
    return "load hysteresis band must be >= 0 and below the medium threshold";
  if (c.at_high.batch_size < 1 || c.at_medium.batch_size < 1 || c.at_low.batch_size < 1)
    return "batch sizes must be at least 1";
  return std::nullopt;
}

rate_setting load_policy::setting_for(load_level l) const noexcept {
  switch (l) {
    case load_level::high:
      return c_.at_high;
    case load_level::medium:
      return c_.at_medium;
    case load_level::low:
      break;
  }
  return c_.at_low;
}

load_decision load_policy::step(double load) noexcept {
  const auto raw = load > c_.high     ? load_level::high
                   : load > c_.medium ? load_level::medium
                                      : load_level::low;
  auto next = raw;
  if (level_ && raw < *level_) {
    // Falling: step down only as far as the lowered thresholds allow.
    next = load >= c_.high - c_.band     ? load_level::high
           : load >= c_.medium - c_.band ? load_level::medium
                                         : load_level::low;
    if (next > *level_) next = *level_;
  }
  const bool changed = !level_ || next != *level_;
  level_ = next;
  return load_decision{load, next, setting_for(next), changed};
}

}  // namespace sluice::monitors
