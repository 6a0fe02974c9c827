#pragma once
// One overflow-monitor step without CAF: sample every inbox of the bus, run the pure
// overflow monitor, append metric and alert lines. The overflow actor runs it on a timer.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "governance/compiled.hpp"
#include "governance/store_layout.hpp"
#include "inbox/inbox.hpp"
#include "monitors/alert.hpp"
#include "monitors/monitor_actors.hpp"
#include "monitors/overflow.hpp"
#include "runtime/alert_sink.hpp"
#include "runtime/metric_sink.hpp"

namespace sluice::monitors {

class overflow_step {
 public:
  explicit overflow_step(const monitor_settings& s);

  monitors::overflow_report step(std::chrono::steady_clock::time_point now);

 private:
  // Every inbox of the bus; one that cannot be opened is skipped (logged once per name).
  // One sample per inbox for the monitor, and each inbox's statistics for the metric lines.
  std::vector<monitors::inbox_sample> sample_inboxes(
      std::vector<std::pair<std::string, inbox::stats>>& stats);
  void emit(const monitors::alert_event& e);
  // Quota alerts at 80, 95 and 100 % of each quota of the bus policy, through the same
  // lifecycle as the inbox alerts (pending, firing, resolved; one line per transition).
  void step_quota_alerts(std::chrono::steady_clock::time_point now);
  void step_budget_alerts(governance::layout::file& state,
                          const governance::compiled_policy& policy, std::int64_t real_ns,
                          std::chrono::steady_clock::time_point now);

  std::filesystem::path bus_dir_;
  monitors::overflow_monitor monitor_;
  runtime::metric_sink metrics_;
  runtime::alert_sink alerts_;
  std::set<std::string> warned_;
  std::map<std::string, std::vector<std::pair<std::string, monitors::alert_rule>>> quota_alerts_;
  std::map<std::string, std::vector<std::pair<std::string, monitors::alert_rule>>> budget_alerts_;
};

}  // namespace sluice::monitors
