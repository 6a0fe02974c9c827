#pragma once
// Alerts on one inbox: two rules, as Prometheus would have them, each a pure state machine fed
// one utilization sample per tick, each with lines of its own type:
//   inbox_high_utilization (warning)  fires above `warning` (0.8), resolves below `clear` (0.7)
//   inbox_overflow (critical)         fires at or above `critical` (1.0), resolves below
//                                     `critical_clear` (0.9)
// Each rule:
//   inactive --(over its threshold)--> pending --(`for_samples` in a row)--> firing
//   firing --(under its clear threshold, `for_samples` in a row)--> resolved -> inactive
//   pending --(under its threshold before firing)--> resolved -> inactive
// Every transition is one line (pending, firing, resolved), never a repeat while a state holds;
// so a line reader can track each alert by its type. A full inbox therefore shows both
// alerts firing, and as it drains the overflow resolves first, then the high utilization.
// The thresholds differ on the way up and down so a utilization that wobbles around one does
// not flap. After a resolve, a warning does not fire again until `cooldown` has passed (it
// waits in pending); the critical rule ignores the cooldown because a full inbox is already
// rejecting sends.
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
  double warning = 0.8;         // the warning fires when utilization is above this
  double clear = 0.7;           // the warning resolves when utilization is below this
  double critical = 1.0;        // the critical alert fires at or above this
  double critical_clear = 0.9;  // the critical alert resolves below this
  std::uint32_t for_samples = 1;
  std::chrono::steady_clock::duration cooldown = std::chrono::seconds(30);
};

// Empty when the thresholds make sense (clear < warning <= critical, critical_clear <
// critical, for_samples >= 1); otherwise says which value to fix.
std::optional<std::string> validate(const alert_thresholds& t);

// One emitted line: which alert changed and into what (pending, firing or resolved).
struct alert_transition {
  alert_state state;
  severity level;
};

// One rule's lifecycle.
class alert_rule {
 public:
  alert_rule(severity level, const alert_thresholds& t) noexcept;

  [[nodiscard]] std::optional<alert_transition> step(double utilization, time_point now) noexcept;

  alert_state state() const noexcept { return state_; }
  severity level() const noexcept { return level_; }

 private:
  bool over(double u) const noexcept;
  bool under_clear(double u) const noexcept;
  alert_transition to(alert_state s) noexcept;

  severity level_;
  double threshold_;
  double clear_;
  std::uint32_t for_samples_;
  std::chrono::steady_clock::duration cooldown_;
  alert_state state_ = alert_state::inactive;
  std::uint32_t run_ = 0;  // consecutive samples asking for the next state
  std::optional<time_point> last_resolved_;
};

}  // namespace sluice::monitors
