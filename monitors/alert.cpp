#include "monitors/alert.hpp"

namespace sluice::monitors {

const char* to_string(severity s) noexcept {
  return s == severity::critical ? "critical" : "warning";
}

const char* to_string(alert_state s) noexcept {
  switch (s) {
    case alert_state::inactive:
      return "inactive";
    case alert_state::pending:
      return "pending";
    case alert_state::firing:
      return "firing";
    case alert_state::resolved:
      return "resolved";
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

alert_rule::alert_rule(severity level, const alert_thresholds& t) noexcept
    : level_(level),
      threshold_(level == severity::critical ? t.critical : t.warning),
      clear_(level == severity::critical ? t.critical_clear : t.clear),
      for_samples_(t.for_samples),
      cooldown_(level == severity::critical ? std::chrono::steady_clock::duration::zero()
                                            : t.cooldown) {}

bool alert_rule::over(double u) const noexcept {
  // A full inbox is exactly at 1.0: the critical rule fires at its threshold, the warning
  // only above its own.
  return level_ == severity::critical ? u >= threshold_ : u > threshold_;
}

bool alert_rule::under_clear(double u) const noexcept {
  return u < clear_;
}

alert_transition alert_rule::to(alert_state s) noexcept {
  state_ = s;
  run_ = 0;
  return alert_transition{s, level_};
}

std::optional<alert_transition> alert_rule::step(double u, time_point now) noexcept {
  switch (state_) {
    case alert_state::inactive:
    case alert_state::resolved:
      state_ = alert_state::inactive;
      if (!over(u)) return std::nullopt;
      run_ = 0;
      if (for_samples_ > 1 || (last_resolved_ && now - *last_resolved_ < cooldown_)) {
        const auto t = to(alert_state::pending);
        run_ = 1;
        return t;
      }
      return to(alert_state::firing);
    case alert_state::pending:
      if (!over(u)) return to(alert_state::resolved);  // it never fired: no cooldown
      ++run_;
      if (run_ < for_samples_ || (last_resolved_ && now - *last_resolved_ < cooldown_))
        return std::nullopt;
      return to(alert_state::firing);
    case alert_state::firing:
      run_ = under_clear(u) ? run_ + 1 : 0;
      if (run_ < for_samples_) return std::nullopt;
      last_resolved_ = now;
      return to(alert_state::resolved);
  }
  return std::nullopt;
}

}  // namespace sluice::monitors
