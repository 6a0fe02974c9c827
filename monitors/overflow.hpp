#pragma once
// Overflow monitor logic: per inbox, utilization, fill rate from counter deltas, projections
// (seconds until full while filling, drain ETA while emptying) and the alert lifecycle.
// Pure: the caller samples the inboxes and passes the clock; nothing here reads either.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "monitors/alert.hpp"

namespace sluice::monitors {

struct inbox_sample {
  std::string agent;
  std::uint64_t size = 0;
  std::uint32_t capacity = 0;
  std::uint64_t enqueued = 0;  // monotonic counters from the inbox header
  std::uint64_t dequeued = 0;
};

struct inbox_view {
  std::string agent;
  std::uint64_t size = 0;
  std::uint32_t capacity = 0;
  double utilization = 0;           // size / capacity; above 1 when the reserve is used
  std::optional<double> fill_rate;  // msgs/s, enqueued minus dequeued; unknown on the first sample
  std::optional<double> seconds_to_full;  // while filling
  std::optional<double> drain_eta;        // seconds until empty while draining
};

// Rates need two samples; a counter that went backwards (inbox re-created) restarts them.
class overflow_tracker {
 public:
  inbox_view step(const inbox_sample& s, time_point now) noexcept;

 private:
  std::optional<inbox_sample> prev_;
  time_point prev_at_{};
};

struct alert_event {
  inbox_view view;
  alert_transition transition;
  bool removed = false;  // the inbox disappeared while its alert was pending or firing
};

// Seed alert types: inbox_overflow (critical), inbox_high_utilization (warning).
const char* alert_type(severity) noexcept;
// One sentence for the alert's "message" field.
std::string describe(const alert_event& e);

struct overflow_report {
  std::vector<inbox_view> inboxes;  // one per sample, in input order
  std::vector<alert_event> alerts;  // transitions only: nothing while a state holds
};

class overflow_monitor {
 public:
  explicit overflow_monitor(alert_thresholds t = {}) noexcept : thresholds_(t) {}

  // `samples` is every inbox of the bus at `now`; inboxes missing from it are forgotten
  // (a firing alert on one is resolved so no alert is left open forever).
  overflow_report step(const std::vector<inbox_sample>& samples, time_point now);

  // The state of the inbox's most severe alert that is not inactive (inactive when none).
  std::optional<alert_state> state_of(const std::string& agent) const;

 private:
  struct entry {
    overflow_tracker tracker;
    alert_rule rules[2];  // warning, critical
    inbox_view last;
  };
  alert_thresholds thresholds_;
  std::map<std::string, entry> inboxes_;
};

}  // namespace sluice::monitors
