#pragma once
// The monitor actors (docs/architecture.md section 5), for `sluice launch` and `sluice monitor-*`.
//
//   caf::actor_system sys{cfg};
//   sluice::monitors::monitor_settings s;
//   s.bus_dir = dir;
//   s.interval = std::chrono::milliseconds(1000);
//   auto overflow = sluice::monitors::spawn_overflow_monitor(sys, s);
//   auto load = sluice::monitors::spawn_load_monitor(sys, s);
//   ...
//   caf::anon_send_exit(overflow, caf::exit_reason::user_shutdown);
//
// Each actor ticks every `interval` (delayed_send, first tick at once), and on each tick
// samples, appends metric/alert lines through the runtime sinks and rewrites metrics.prom.
// Nothing a tick reads or writes can kill the actor: a missing inbox, an unreadable /proc
// file or a failed write is logged (once per kind) and the next tick tries again.
#include <caf/fwd.hpp>
#include <chrono>
#include <filesystem>

#include "monitors/alert.hpp"
#include "monitors/load_policy.hpp"
#include "runtime/config.hpp"

namespace sluice::monitors {

enum class load_source { stat, psi, loadavg };
const char* to_string(load_source) noexcept;

struct monitor_settings {
  std::filesystem::path bus_dir;             // the resolved bus directory
  std::chrono::milliseconds interval{5000};  // RATE_LIMIT_CHECK_INTERVAL, >= 100 ms
  std::filesystem::path metrics_file;        // empty: <bus_dir>/metrics.jsonl
  std::filesystem::path alert_file;          // empty: <bus_dir>/alerts.jsonl
  bool write_prom = true;                    // rewrite <bus_dir>/metrics.prom each tick
  monitors::alert_thresholds alerts;         // overflow monitor
  monitors::load_policy_config load;         // load monitor
  load_source source = load_source::stat;    // load monitor; falls back when unreadable
  std::filesystem::path proc_dir = "/proc";  // tests point this at fixture files

  std::filesystem::path metrics_path() const {
    return metrics_file.empty() ? bus_dir / runtime::defaults::metrics_file_name : metrics_file;
  }
  std::filesystem::path alert_path() const {
    return alert_file.empty() ? bus_dir / runtime::defaults::alert_file_name : alert_file;
  }
};

// Both return the actor; stop it with anon_send_exit(a, caf::exit_reason::user_shutdown).
caf::actor spawn_overflow_monitor(caf::actor_system& sys, const monitor_settings& s);
caf::actor spawn_load_monitor(caf::actor_system& sys, const monitor_settings& s);

}  // namespace sluice::monitors
