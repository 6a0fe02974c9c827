#pragma once
// Every tunable sluice knob, where it comes from, and what values it accepts.
//
// Precedence: flag > environment (the bash tool's names) > sluice.toml > default. sluice.toml
// is looked up in the bus directory, then in $XDG_CONFIG_HOME/sluice/ (~/.config/sluice/);
// for each key the first file that sets it wins. Lookup is lazy: a verb asks only for the
// knobs it uses, and no file is stat'ed or parsed until a knob is not set by flag or env.
// A sluice.toml is obeyed only if nobody but the caller and root (in a group bus: the bus
// group) can have written it; anything else is an error (permission_denied, exit 77), never
// silently skipped (config.cpp, read_trusted_toml).
// An invalid value is an error naming the variable or key and the accepted range, never a
// silent default.
//
// | knob                  | env                              | sluice.toml key                   |
// default | accepted                |
// |-----------------------|----------------------------------|-----------------------------------|---------|-------------------------|
// | max_inbox_size        | MAX_INBOX_SIZE                   | inbox.max_size                    |
// 1000    | 1..100000               | | slot_size             | SLUICE_SLOT_SIZE                 |
// inbox.slot_size                   | 4096    | 256..1048576, x64       | | critical_reserve      |
// SLUICE_CRITICAL_RESERVE          | inbox.critical_reserve            | 64      | 0..10000 | |
// backpressure_wait     | BACKPRESSURE_WAIT_MS             | backpressure.wait_ms              |
// 100 ms  | 1..60000 ms             | | backpressure_retries  | BACKPRESSURE_MAX_RETRIES         |
// backpressure.max_retries          | 50      | 1..100000               | | check_interval        |
// RATE_LIMIT_CHECK_INTERVAL        | rate_limit.check_interval         | 5 s     | 0.1 s..1 h
// (duration)   | | high_load_threshold   | RATE_LIMIT_HIGH_LOAD_THRESHOLD   |
// rate_limit.high_load_threshold    | 0.8     | 0..1, > medium          | | medium_load_threshold |
// RATE_LIMIT_MEDIUM_LOAD_THRESHOLD | rate_limit.medium_load_threshold  | 0.5     | 0..1, < high |
// | batch_size            | CFN_BATCH_SIZE                   | rate_limit.batch_size             |
// 10      | 1..10000                | | metrics_file          | METRICS_FILE                     |
// metrics.file                      | <bus>/metrics.jsonl | non-empty path | | alert_log_file |
// ALERT_LOG_FILE                   | alerts.file                       | <bus>/alerts.jsonl  |
// non-empty path | | log_level             | SLUICE_LOG_LEVEL                 | log.level | info |
// trace debug info warn error off |
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "inbox/inbox.hpp"
#include "runtime/logging.hpp"
#include "runtime/result.hpp"

namespace sluice::runtime {

enum class knob {
  max_inbox_size,
  slot_size,
  critical_reserve,
  backpressure_wait,
  backpressure_retries,
  check_interval,
  high_load_threshold,
  medium_load_threshold,
  batch_size,
  metrics_file,
  alert_log_file,
  log_level,
};
inline constexpr int knob_count = 12;

struct knob_info {
  knob id;
  const char* env;       // "MAX_INBOX_SIZE"
  const char* toml_key;  // "inbox.max_size"
  const char* accepted;  // "an integer in 1..100000"
};
const knob_info& describe(knob) noexcept;

// Defaults, in one place (the bash tool's values where it had the knob).
namespace defaults {
inline constexpr std::uint32_t max_inbox_size = 1000;
inline constexpr std::uint32_t slot_size = 4096;
inline constexpr std::uint32_t critical_reserve = 64;
inline constexpr std::chrono::milliseconds backpressure_wait{100};
inline constexpr std::uint32_t backpressure_retries = 50;
inline constexpr std::chrono::milliseconds check_interval{5000};
inline constexpr double high_load_threshold = 0.8;
inline constexpr double medium_load_threshold = 0.5;
inline constexpr std::uint32_t batch_size = 10;
inline constexpr const char* metrics_file_name = "metrics.jsonl";
inline constexpr const char* alert_file_name = "alerts.jsonl";
inline constexpr log_level level = log_level::info;
}  // namespace defaults

// The ranges an inbox's geometry may take, wherever it is set (environment, sluice.toml, a
// launch manifest), so every creator accepts the same values.
namespace limits {
inline constexpr std::uint32_t max_inbox_size = 100000;
inline constexpr std::uint32_t max_critical_reserve = 10000;
inline constexpr std::uint32_t min_slot_size = 256;
inline constexpr std::uint32_t max_slot_size = 1u << 20;
}  // namespace limits

struct load_thresholds {
  double medium;  // load per CPU above this is medium load
  double high;    // above this is high load; always > medium
};

// Everything at once, for long-running verbs that use most knobs.
struct settings {
  std::uint32_t max_inbox_size = defaults::max_inbox_size;
  std::uint32_t slot_size = defaults::slot_size;
  std::uint32_t critical_reserve = defaults::critical_reserve;
  std::chrono::milliseconds backpressure_wait = defaults::backpressure_wait;
  std::uint32_t backpressure_retries = defaults::backpressure_retries;
  std::chrono::milliseconds check_interval = defaults::check_interval;
  load_thresholds thresholds{defaults::medium_load_threshold, defaults::high_load_threshold};
  std::uint32_t batch_size = defaults::batch_size;
  std::filesystem::path metrics_file;
  std::filesystem::path alert_log_file;
  log_level level = defaults::level;
};

// Returns the value of an environment variable, or nullopt when unset. Injected so tests
// need not mutate the process environment.
using env_lookup = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::string> process_env(const char* name);

class config {
 public:
  // bus_dir: the resolved bus directory (first place sluice.toml is looked for, and the home
  // of the default metrics/alerts files). user_config_dir overrides $XDG_CONFIG_HOME/sluice
  // (tests); empty means derive it from the environment.
  explicit config(std::filesystem::path bus_dir, env_lookup env = process_env,
                  std::filesystem::path user_config_dir = {});
  config(config&&) noexcept;
  config& operator=(config&&) noexcept;
  ~config();

  // A value given on the command line for a knob; parsed and validated when asked for.
  // `flag` names it in errors ("--timeout").
  void set_flag(knob k, std::string value, std::string flag_name);

  result<std::uint32_t> max_inbox_size();
  result<std::uint32_t> slot_size();
  result<std::uint32_t> critical_reserve();
  // The geometry of an inbox this process creates (capacity, slot size, critical reserve;
  // mode 0600), so every creator (CLI, agents, bridge) makes the same inbox.
  result<inbox::create_options> new_inbox_options();
  result<std::chrono::milliseconds> backpressure_wait();
  result<std::uint32_t> backpressure_retries();
  result<std::chrono::milliseconds> check_interval();
  // Both thresholds, validated together (medium < high).
  result<load_thresholds> thresholds();
  result<std::uint32_t> batch_size();
  result<std::filesystem::path> metrics_file();
  result<std::filesystem::path> alert_log_file();
  result<log_level> level();

  // Every knob; the first invalid one is the error.
  result<settings> all();

  // Where a knob's value came from: "--flag", "env MAX_INBOX_SIZE",
  // "/dev/shm/sluice/default/sluice.toml: inbox.max_size" or "default". For `sluice config`
  // style diagnostics and for error messages.
  std::string source_of(knob k);
  // A knob's value as `sluice config` prints it ("100 ms", "0.8", "/path"), or its error.
  result<std::string> value_text(knob k);

  struct impl;

 private:
  std::unique_ptr<impl> p_;
};

}  // namespace sluice::runtime
