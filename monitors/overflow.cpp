#include "monitors/overflow.hpp"

#include <fmt/format.h>

#include <set>

namespace sluice::monitors {

inbox_view overflow_tracker::step(const inbox_sample& s, time_point now) noexcept {
  inbox_view v;
  v.agent = s.agent;
  v.size = s.size;
  v.capacity = s.capacity;
  v.utilization = s.capacity == 0 ? 0.0 : static_cast<double>(s.size) / s.capacity;
  const bool comparable =
      prev_ && now > prev_at_ && s.enqueued >= prev_->enqueued && s.dequeued >= prev_->dequeued;
  if (comparable) {
    const double dt = std::chrono::duration<double>(now - prev_at_).count();
    const double in = static_cast<double>(s.enqueued - prev_->enqueued);
    const double out = static_cast<double>(s.dequeued - prev_->dequeued);
    const double rate = (in - out) / dt;
    v.fill_rate = rate;
    if (rate > 0) {
      const double room = s.size >= s.capacity ? 0.0 : static_cast<double>(s.capacity - s.size);
      v.seconds_to_full = room / rate;
    } else if (rate < 0 && s.size > 0) {
      v.drain_eta = static_cast<double>(s.size) / -rate;
    }
  }
  prev_ = s;
  prev_at_ = now;
  return v;
}

const char* alert_type(severity s) noexcept {
  return s == severity::critical ? "inbox_overflow" : "inbox_high_utilization";
}

std::string describe(const alert_event& e) {
  const auto& v = e.view;
  if (e.removed) return fmt::format("inbox {} was removed while its alert was active", v.agent);
  const auto pct = v.utilization * 100.0;
  if (e.transition.state == alert_state::resolved)
    return fmt::format("inbox {} back to {:.0f}% ({}/{})", v.agent, pct, v.size, v.capacity);
  if (e.transition.state == alert_state::pending)
    return fmt::format("inbox {} at {:.0f}% ({}/{}), pending: fires if it stays there", v.agent,
                       pct, v.size, v.capacity);
  std::string s =
      e.transition.level == severity::critical
          ? fmt::format("inbox {} is full ({}/{})", v.agent, v.size, v.capacity)
          : fmt::format("inbox {} at {:.0f}% ({}/{})", v.agent, pct, v.size, v.capacity);
  if (v.seconds_to_full && *v.seconds_to_full > 0)
    s += fmt::format(", filling at {:.1f} msg/s, full in {:.0f} s", *v.fill_rate,
                     *v.seconds_to_full);
  else if (v.drain_eta)
    s += fmt::format(", draining at {:.1f} msg/s, empty in {:.0f} s", -*v.fill_rate, *v.drain_eta);
  return s;
}

overflow_report overflow_monitor::step(const std::vector<inbox_sample>& samples, time_point now) {
  overflow_report r;
  std::set<std::string> seen;
  for (const auto& s : samples) {
    seen.insert(s.agent);
    auto it = inboxes_.find(s.agent);
    if (it == inboxes_.end()) {
      it = inboxes_
               .emplace(s.agent, entry{overflow_tracker{},
                                       {alert_rule{severity::warning, thresholds_},
                                        alert_rule{severity::critical, thresholds_}},
                                       {}})
               .first;
    }
    auto& e = it->second;
    e.last = e.tracker.step(s, now);
    r.inboxes.push_back(e.last);
    for (auto& rule : e.rules) {
      if (auto t = rule.step(e.last.utilization, now)) r.alerts.push_back({e.last, *t, false});
    }
  }
  for (auto it = inboxes_.begin(); it != inboxes_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    for (const auto& rule : it->second.rules) {
      if (rule.state() == alert_state::firing || rule.state() == alert_state::pending)
        r.alerts.push_back({it->second.last, {alert_state::resolved, rule.level()}, true});
    }
    it = inboxes_.erase(it);
  }
  return r;
}

std::optional<alert_state> overflow_monitor::state_of(const std::string& agent) const {
  auto it = inboxes_.find(agent);
  if (it == inboxes_.end()) return std::nullopt;
  const auto& critical = it->second.rules[1];
  if (critical.state() == alert_state::firing || critical.state() == alert_state::pending)
    return critical.state();
  const auto& warning = it->second.rules[0];
  return warning.state() == alert_state::resolved ? alert_state::inactive : warning.state();
}

}  // namespace sluice::monitors
