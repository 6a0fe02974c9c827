#pragma once
// Alert lifecycle for one inbox: a pure state machine fed one utilization sample per tick.
//
//   inactive --(above warning)--> pending --(`for_samples` in a row)--> firing(warning)
//   firing(warning) --(at critical, `for_samples` in a row)--> firing(critical)   escalation
//   firing(critical) --(below critical_clear, `for_samples` in a row)--> firing(warning)
//   firing(*) --(below clear, `for_samples` in a row)--> resolved -> inactive
//
// Thresholds differ on the way up and down (warning 0.8 / clear 0.7, critical 1.0 /
// critical_clear 0.9) so a utilization that wobbles around one threshold does not flap.
// A line is emitted only on a transition, never while a state holds. After a resolve, a
// warning does not fire again until `cooldown` has passed (it waits in pending); a critical
// alert ignores the cooldown because a full inbox is already rejecting sends.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::monitors {

using time_point = std::chrono::steady_clock::time_point;

enum class severity { warning, critical };
enum class alert_state { inactive, pending, firing, resolved };

const char* to_string(severity) noexcept;
const char* to_string(alert_state) noexcept;

struct alert_thresholds {
  double warning = 0.8;         // fire a warning when utilization is above this
  double clear = 0.7;           // resolve when utilization is below this
  double critical = 1.0;        // escalate to critical at or above this
  double critical_clear = 0.9;  // step back to warning below this
  std::uint32_t for_samples = 1;
  std::chrono::steady_clock::duration cooldown = std::chrono::seconds(30);
};

// Empty when the thresholds make sense (clear < warning <= critical, critical_clear <
// critical, for_samples >= 1); otherwise says which value to fix.
std::optional<std::string> validate(const alert_thresholds& t);

// One emitted line: what changed and into what.
struct alert_transition {
  alert_state state;                 // firing or resolved (pending is silent)
  severity level;                    // severity after the transition
  std::optional<severity> previous;  // set on escalation / de-escalation while firing
};

class alert_lifecycle {
 public:
  explicit alert_lifecycle(alert_thresholds t = {}) noexcept;

  [[nodiscard]] std::optional<alert_transition> step(double utilization, time_point now) noexcept;

  alert_state state() const noexcept { return state_; }
  severity level() const noexcept { return level_; }
  const alert_thresholds& thresholds() const noexcept { return t_; }

 private:
  std::optional<alert_transition> step_quiet(double u, time_point now) noexcept;
  std::optional<alert_transition> step_firing(double u, time_point now) noexcept;
  bool cooling_down(severity wanted, time_point now) const noexcept;

  alert_thresholds t_;
  alert_state state_ = alert_state::inactive;
  severity level_ = severity::warning;
  std::uint32_t up_run_ = 0;        // consecutive samples asking to fire or escalate
  std::uint32_t down_run_ = 0;      // consecutive samples asking to resolve
  std::uint32_t deescalate_run_ = 0;
  std::optional<time_point> last_resolved_;
};

}  // namespace sluice::monitors
