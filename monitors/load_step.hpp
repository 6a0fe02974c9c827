#pragma once
// One load-monitor step without CAF: read the load source, decide with the pure policy,
// publish into bus.ctl, append metric lines. The load actor runs it on a timer;
// `sluice apply-rate-limit` runs it once.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "monitors/load_policy.hpp"
#include "monitors/monitor_actors.hpp"
#include "monitors/proc_stat.hpp"
#include "runtime/bus_control.hpp"
#include "runtime/metric_sink.hpp"
#include "runtime/result.hpp"

namespace sluice::monitors {

// Reads load per CPU from /proc. When the chosen source is missing or unreadable it falls
// back (psi -> stat -> loadavg, stat -> loadavg, loadavg -> stat) and warns once per source.
class load_sampler {
 public:
  load_sampler(std::filesystem::path proc_dir, load_source preferred);

  struct reading {
    std::optional<double> load;  // empty: no value this time (first /proc/stat reading)
    load_source source;          // the source that answered (or was tried last)
  };
  reading sample();

 private:
  std::optional<double> read(load_source s, bool& available);

  std::filesystem::path proc_dir_;
  load_source preferred_;
  monitors::cpu_load_meter meter_;
  unsigned warned_ = 0;  // bit per source that already logged its failure
};

struct load_step_result {
  std::optional<double> load;
  load_source source = load_source::stat;
  std::optional<monitors::load_decision> decision;  // empty when there was no load reading
};

class load_step {
 public:
  // Opens (or creates) bus.ctl in s.bus_dir; fails with the reason when it cannot.
  static runtime::result<load_step> open(const monitor_settings& s);

  // valid_for > 0: the published setting expires unless the next step renews it in time, so
  // senders return to their defaults when the monitor dies. Zero keeps it until replaced (the
  // one-shot `apply-rate-limit`, as the bash tool's exported setting did).
  load_step_result step(std::chrono::steady_clock::time_point now,
                        std::chrono::nanoseconds valid_for = std::chrono::nanoseconds::zero());

 private:
  load_step(const monitor_settings& s, runtime::bus_control ctl, monitors::load_policy policy);
  void emit_policy_counters();

  load_sampler sampler_;
  monitors::load_policy policy_;
  runtime::bus_control ctl_;
  runtime::metric_sink metrics_;
  std::filesystem::path bus_dir_;
};

}  // namespace sluice::monitors
