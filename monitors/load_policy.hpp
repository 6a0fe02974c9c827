#pragma once
// Load per CPU -> batch size and backpressure wait (seed policy), with hysteresis:
// a level is entered when load rises above its threshold and left only when load falls
// below threshold - band, so a load wobbling around 0.8 does not flip 5 <-> 10 every tick.
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::monitors {

enum class load_level { low, medium, high };
const char* to_string(load_level) noexcept;

struct rate_setting {
  std::uint32_t batch_size = 0;
  std::uint32_t wait_ms = 0;
  friend bool operator==(const rate_setting& a, const rate_setting& b) noexcept {
    return a.batch_size == b.batch_size && a.wait_ms == b.wait_ms;
  }
};

struct load_policy_config {
  double high = 0.8;    // RATE_LIMIT_HIGH_LOAD_THRESHOLD
  double medium = 0.5;  // RATE_LIMIT_MEDIUM_LOAD_THRESHOLD
  double band = 0.05;   // hysteresis: leave a level only below threshold - band
  rate_setting at_high{5, 200};
  rate_setting at_medium{10, 100};
  rate_setting at_low{20, 50};
};

// Empty when usable (0 <= medium < high, 0 <= band < medium, batches >= 1); else the fix.
std::optional<std::string> validate(const load_policy_config& c);

struct load_decision {
  double load = 0;
  load_level level = load_level::low;
  rate_setting setting;
  bool changed = false;  // level differs from the previous step (always true on the first)
};

class load_policy {
 public:
  explicit load_policy(load_policy_config c = {}) noexcept : c_(c) {}
  // Continues from a level decided earlier (a restarted monitor, a one-shot adjustment), so
  // hysteresis holds across processes instead of restarting from no level.
  load_policy(load_policy_config c, load_level resume_from) noexcept : c_(c), level_(resume_from) {}

  load_decision step(double load_per_cpu) noexcept;

  std::optional<load_level> level() const noexcept { return level_; }
  rate_setting setting_for(load_level) const noexcept;
  const load_policy_config& config() const noexcept { return c_; }

 private:
  load_policy_config c_;
  std::optional<load_level> level_;
};

}  // namespace sluice::monitors
