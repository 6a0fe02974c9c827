#include "monitors/overflow_step.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "inbox/inbox.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/config.hpp"
#include "runtime/inbox_stats.hpp"

namespace sluice::monitors {
namespace {

std::filesystem::path or_default(const std::filesystem::path& p, const std::filesystem::path& dir,
                                 const char* name) {
  return p.empty() ? dir / name : p;
}

runtime::severity to_runtime(monitors::severity s) noexcept {
  return s == monitors::severity::critical ? runtime::severity::critical : runtime::severity::warning;
}

runtime::alert_state to_runtime(monitors::alert_state s) noexcept {
  switch (s) {
    case monitors::alert_state::pending: return runtime::alert_state::pending;
    case monitors::alert_state::resolved: return runtime::alert_state::resolved;
    case monitors::alert_state::inactive:
    case monitors::alert_state::firing: break;
  }
  return runtime::alert_state::firing;
}

// Percent with one decimal, as the seed's inbox.utilization metric is a percentage.
double percent(double ratio) noexcept { return std::round(ratio * 1000.0) / 10.0; }
double tenths(double v) noexcept { return std::round(v * 10.0) / 10.0; }

nlohmann::json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::json(tenths(*v)) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<monitors::inbox_sample> overflow_step::sample_inboxes(
    std::vector<std::pair<std::string, inbox::stats>>& stats) {
  std::vector<monitors::inbox_sample> out;
  for (const auto& agent : runtime::list_agents(bus_dir_)) {
    auto box = inbox::inbox::open(bus_dir_, agent);
    if (!box) {
      if (warned_.insert(agent).second)
        spdlog::warn("overflow monitor skips inbox {}: {}", agent, box.err().message);
      continue;
    }
    const auto s = box->snapshot();
    // The overflow alerts are about the regular capacity; the critical reserve is apart.
    const std::uint64_t regular = s.size - std::min(s.size, s.size_by_lane[inbox::critical_lane]);
    out.push_back({agent, regular, s.capacity, s.enqueued, s.dequeued});
    stats.emplace_back(agent, s);
  }
  return out;
}

overflow_step::overflow_step(const monitor_settings& s)
    : bus_dir_(s.bus_dir),
      monitor_(s.alerts),
      metrics_(or_default(s.metrics_file, s.bus_dir, runtime::defaults::metrics_file_name)),
      alerts_(or_default(s.alert_file, s.bus_dir, runtime::defaults::alert_file_name)) {}

monitors::overflow_report overflow_step::step(std::chrono::steady_clock::time_point now) {
  std::vector<std::pair<std::string, inbox::stats>> stats;
  auto report = monitor_.step(sample_inboxes(stats), now);
  for (const auto& [agent, s] : stats) {
    for (std::size_t i = 0; i < runtime::inbox_stat_count; ++i) {
      const auto& row = runtime::inbox_stat_table[i];
      if (row.metric == nullptr) continue;
      (void)metrics_.emit(row.metric, runtime::metric_value(row, s),
                          row.kind == runtime::stat_kind::percent ? "percent" : "count",
                          {{"agent", agent}});
    }
  }
  for (const auto& e : report.alerts) emit(e);
  return report;
}

void overflow_step::emit(const monitors::alert_event& e) {
  const auto& v = e.view;
  nlohmann::json meta{
      {"agent", v.agent},
      {"size", v.size},
      {"max_size", v.capacity},
      {"utilization", percent(v.utilization)},
      {"fill_rate_msgs_per_s", optional_number(v.fill_rate)},
      {"seconds_to_full", optional_number(v.seconds_to_full)},
      {"drain_eta_s", optional_number(v.drain_eta)},
  };
  if (e.removed) meta["removed"] = true;
  const auto message = monitors::describe(e);
  const auto type = monitors::alert_type(e.transition.level);
  if (e.transition.state == monitors::alert_state::firing)
    spdlog::warn("{} firing: {}", type, message);
  else
    spdlog::info("{} {}: {}", type, monitors::to_string(e.transition.state), message);
  (void)alerts_.emit(type, to_runtime(e.transition.level), to_runtime(e.transition.state), message, meta);
}

}  // namespace sluice::monitors
