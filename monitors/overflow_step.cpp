#include "monitors/overflow_step.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "governance/clock.hpp"
#include "governance/report.hpp"
#include "governance/store.hpp"
#include "inbox/inbox.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/config.hpp"
#include "runtime/inbox_stats.hpp"

namespace sluice::monitors {
namespace {

runtime::severity to_runtime(monitors::severity s) noexcept {
  return s == monitors::severity::critical ? runtime::severity::critical
                                           : runtime::severity::warning;
}

runtime::alert_state to_runtime(monitors::alert_state s) noexcept {
  switch (s) {
    case monitors::alert_state::pending:
      return runtime::alert_state::pending;
    case monitors::alert_state::resolved:
      return runtime::alert_state::resolved;
    case monitors::alert_state::inactive:
    case monitors::alert_state::firing:
      break;
  }
  return runtime::alert_state::firing;
}

// Percent with one decimal, as the seed's inbox.utilization metric is a percentage.
double percent(double ratio) noexcept {
  return std::round(ratio * 1000.0) / 10.0;
}
double tenths(double v) noexcept {
  return std::round(v * 10.0) / 10.0;
}

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
      metrics_(s.metrics_path()),
      alerts_(s.alert_path()) {}

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
  step_quota_alerts(now);
  return report;
}

// Cost per agent against a limit's agent_budget (per quota period): a warning at 80 %, a
// critical alert at 100 %. Budgets only alert; the quota is what refuses.
void overflow_step::step_budget_alerts(governance::layout::file& state,
                                       const governance::compiled_policy& policy,
                                       std::int64_t real_ns,
                                       std::chrono::steady_clock::time_point now) {
  for (const auto& l : policy.limits) {
    if (l.agent_budget == 0 || !l.quota) continue;
    const auto rows =
        governance::cost_report(state, governance::cost_grouping::both, l.quota->period, real_ns);
    for (const auto& row : rows) {
      if (row["key"] != l.name) continue;
      const std::string agent = row["agent"].get<std::string>();
      const auto cost = row["cost"].get<std::uint64_t>();
      auto& rules = budget_alerts_[agent + "/" + l.name];
      if (rules.empty()) {
        monitors::alert_thresholds t;
        t.warning = 0.8;
        t.clear = 0.75;
        t.critical = 1.0;
        t.critical_clear = 0.95;
        rules.emplace_back("cost_budget_80_percent",
                           monitors::alert_rule(monitors::severity::warning, t));
        rules.emplace_back("cost_budget_exceeded",
                           monitors::alert_rule(monitors::severity::critical, t));
      }
      const double u = static_cast<double>(cost) / static_cast<double>(l.agent_budget);
      for (auto& [type, rule] : rules) {
        const auto tr = rule.step(u, now);
        if (!tr) continue;
        const std::string message = "agent " + agent + " spent " + std::to_string(cost) +
                                    " of its " + std::to_string(l.agent_budget) + " budget on " +
                                    l.name + " this " + governance::to_string(l.quota->period);
        spdlog::info("{} {}: {}", type, monitors::to_string(tr->state), message);
        (void)alerts_.emit(
            type, to_runtime(tr->level), to_runtime(tr->state), message,
            nlohmann::json{
                {"agent", agent}, {"limit", l.name}, {"cost", cost}, {"budget", l.agent_budget}});
      }
    }
  }
}

void overflow_step::step_quota_alerts(std::chrono::steady_clock::time_point now) {
  if (!std::filesystem::exists(bus_dir_ / governance::policy_file_name)) return;
  auto s = governance::store::open(bus_dir_);
  if (!s) return;
  auto p = s.value().current();
  if (!p || p.value() == nullptr) return;
  const auto real_ns = governance::realtime_ns();
  const auto n = governance::snapshot(s.value().raw(), *p.value(), real_ns);
  step_budget_alerts(s.value().raw(), *p.value(), real_ns, now);
  for (const auto& l : n.limits) {
    if (!l.has_quota || l.quota_limit == 0) continue;
    auto& rules = quota_alerts_[l.name];
    if (rules.empty()) {
      // 80 and 95 % warn (resolving 5 points lower, so usage near a line does not flap);
      // 100 % is critical: a hard quota refuses from there.
      auto at = [](double warn, double clear) {
        monitors::alert_thresholds t;
        t.warning = warn;
        t.clear = clear;
        t.critical = 1.0;
        t.critical_clear = 0.95;
        return t;
      };
      rules.emplace_back("quota_80_percent",
                         monitors::alert_rule(monitors::severity::warning, at(0.8, 0.75)));
      rules.emplace_back("quota_95_percent",
                         monitors::alert_rule(monitors::severity::warning, at(0.95, 0.9)));
      rules.emplace_back("quota_exhausted",
                         monitors::alert_rule(monitors::severity::critical, at(0.8, 0.75)));
    }
    const double u = static_cast<double>(l.quota_used) / static_cast<double>(l.quota_limit);
    for (auto& [type, rule] : rules) {
      const auto t = rule.step(u, now);
      if (!t) continue;
      const std::string message =
          "quota of " + l.name + " at " + std::to_string(std::lround(u * 100)) + "% (" +
          std::to_string(l.quota_used) + " of " + std::to_string(l.quota_limit) + ")";
      spdlog::info("{} {}: {}", type, monitors::to_string(t->state), message);
      (void)alerts_.emit(type, to_runtime(t->level), to_runtime(t->state), message,
                         nlohmann::json{{"limit", l.name},
                                        {"used", l.quota_used},
                                        {"quota", l.quota_limit},
                                        {"utilization", std::lround(u * 100)}});
    }
  }
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
  (void)alerts_.emit(type, to_runtime(e.transition.level), to_runtime(e.transition.state), message,
                     meta);
}

}  // namespace sluice::monitors
