#include "monitors/alert.hpp"

namespace sluice::monitors {

const char* to_string(severity s) noexcept {
  return s == severity::critical ? "critical" : "warning";
}

const char* to_string(alert_state s) noexcept {
  switch (s) {
    case alert_state::inactive: return "inactive";
    case alert_state::pending: return "pending";
    case alert_state::firing: return "firing";
    case alert_state::resolved: return "resolved";
  }
  return "unknown";
}

std::optional<std::string> validate(const alert_thresholds& t) {
  if (!(t.clear < t.warning))
    return "alert clear threshold must be below the warning threshold (hysteresis band)";
  if (!(t.warning <= t.critical)) return "alert warning threshold must not exceed critical";
  if (!(t.critical_clear < t.critical))
    return "alert critical_clear threshold must be below the critical threshold";
  if (t.for_samples < 1) return "alert --for must be at least 1 sample";
  if (t.cooldown.count() < 0) return "alert cooldown must not be negative";
  return std::nullopt;
}

alert_lifecycle::alert_lifecycle(alert_thresholds t) noexcept : t_(t) {}

std::optional<alert_transition> alert_lifecycle::step(double utilization, time_point now) noexcept {
  return state_ == alert_state::firing ? step_firing(utilization, now) : step_quiet(utilization, now);
}

bool alert_lifecycle::cooling_down(severity wanted, time_point now) const noexcept {
  return wanted == severity::warning && last_resolved_ && now - *last_resolved_ < t_.cooldown;
}

std::optional<alert_transition> alert_lifecycle::step_quiet(double u, time_point now) noexcept {
  std::optional<severity> wanted;
  if (u >= t_.critical)
    wanted = severity::critical;
  else if (u > t_.warning)
    wanted = severity::warning;
  if (!wanted) {
    // A pending alert that falls back never fired, so there is nothing to resolve.
    up_run_ = 0;
    state_ = alert_state::inactive;
    return std::nullopt;
  }
  ++up_run_;
  if (up_run_ < t_.for_samples || cooling_down(*wanted, now)) {
    state_ = alert_state::pending;
    return std::nullopt;
  }
  state_ = alert_state::firing;
  level_ = *wanted;
  up_run_ = down_run_ = deescalate_run_ = 0;
  return alert_transition{alert_state::firing, level_, std::nullopt};
}

std::optional<alert_transition> alert_lifecycle::step_firing(double u, time_point now) noexcept {
  if (u < t_.clear) {
    up_run_ = deescalate_run_ = 0;
    if (++down_run_ >= t_.for_samples) {
      state_ = alert_state::resolved;
      last_resolved_ = now;
      down_run_ = 0;
      return alert_transition{alert_state::resolved, level_, std::nullopt};
    }
    return std::nullopt;
  }
  down_run_ = 0;
  if (level_ == severity::warning) {
    up_run_ = u >= t_.critical ? up_run_ + 1 : 0;
    if (up_run_ >= t_.for_samples) {
      up_run_ = 0;
      level_ = severity::critical;
      return alert_transition{alert_state::firing, level_, severity::warning};
    }
    return std::nullopt;
  }
  deescalate_run_ = u < t_.critical_clear ? deescalate_run_ + 1 : 0;
  if (deescalate_run_ >= t_.for_samples) {
    deescalate_run_ = 0;
    level_ = severity::warning;
    return alert_transition{alert_state::firing, level_, severity::critical};
  }
  return std::nullopt;
}

}  // namespace sluice::monitors
