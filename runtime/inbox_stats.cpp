#include "runtime/inbox_stats.hpp"

#include <cmath>

namespace sluice::runtime {

namespace {

std::uint64_t critical_pending(const inbox::stats& s) noexcept {
  return s.size_by_lane[inbox::critical_lane];
}

template <class T>
constexpr double as_double(T v) noexcept {
  return static_cast<double>(v);
}

constexpr prom_family none{nullptr, prom_type::gauge, nullptr};

}  // namespace

double utilization_percent(const inbox::stats& s) noexcept {
  if (s.capacity == 0) return 0;
  const std::uint64_t regular = s.size - std::min(s.size, critical_pending(s));
  return std::min(100.0, as_double(regular) * 100.0 / s.capacity);
}

// clang-format off
const inbox_stat inbox_stat_table[] = {
  {"size", stat_kind::count, [](const inbox::stats& s) { return as_double(s.size); },
   in_get_stats, prom::inbox_messages, "inbox.size"},
  {"utilization", stat_kind::percent, utilization_percent,
   in_get_stats, prom::inbox_utilization_ratio, "inbox.utilization"},
  {"max_size", stat_kind::count, [](const inbox::stats& s) { return as_double(s.capacity); },
   in_get_stats, prom::inbox_capacity, nullptr},
  {"critical_size", stat_kind::count, [](const inbox::stats& s) { return as_double(critical_pending(s)); },
   in_get_stats, prom::inbox_critical_messages, nullptr},
  {"critical_reserve", stat_kind::count, [](const inbox::stats& s) { return as_double(s.critical_reserve); },
   in_get_stats, prom::inbox_critical_capacity, nullptr},
  {"enqueued", stat_kind::count, [](const inbox::stats& s) { return as_double(s.enqueued); },
   in_get_stats | in_doctor, prom::messages_enqueued_total, nullptr},
  {"dequeued", stat_kind::count, [](const inbox::stats& s) { return as_double(s.dequeued); },
   in_get_stats | in_doctor, prom::messages_dequeued_total, nullptr},
  {"rejected_full", stat_kind::count, [](const inbox::stats& s) { return as_double(s.rejected_full); },
   in_get_stats | in_doctor, prom::send_rejected_full_total, nullptr},
  {"rejected_fair_share", stat_kind::count, [](const inbox::stats& s) { return as_double(s.fair_share_refusals); },
   in_get_stats, prom::send_rejected_fair_share_total, nullptr},
  {"dropped", stat_kind::count, [](const inbox::stats& s) { return as_double(s.dropped); },
   in_get_stats | in_doctor, prom::messages_dropped_total, nullptr},
  {"abandoned", stat_kind::count, [](const inbox::stats& s) { return as_double(s.abandoned); },
   in_get_stats | in_doctor, prom::slots_abandoned_total, nullptr},
  {"corrupt", stat_kind::count, [](const inbox::stats& s) { return as_double(s.corrupt); },
   in_get_stats | in_doctor, prom::slots_corrupt_total, nullptr},
  {"backpressure_waits", stat_kind::count, [](const inbox::stats& s) { return as_double(s.backpressure_waits); },
   in_get_stats | in_doctor, prom::backpressure_waits_total, nullptr},
  {"send_failures", stat_kind::count, [](const inbox::stats& s) { return as_double(s.send_failures); },
   in_get_stats | in_doctor, prom::send_failures_total, nullptr},
  // Who consumes the inbox, for `sluice top`: the live consumer (0: none), and the pid the
  // header records, which stays after a consumer died without letting go.
  {"consumer_pid", stat_kind::count, [](const inbox::stats& s) { return as_double(s.consumer_pid); },
   0, none, nullptr},
  {"recorded_consumer_pid", stat_kind::count, [](const inbox::stats& s) { return as_double(s.recorded_consumer_pid); },
   0, none, nullptr},
};
// clang-format on
const std::size_t inbox_stat_count = sizeof inbox_stat_table / sizeof inbox_stat_table[0];

std::uint64_t json_value(const inbox_stat& row, const inbox::stats& s) noexcept {
  return static_cast<std::uint64_t>(std::floor(row.value(s)));
}

double prom_value(const inbox_stat& row, const inbox::stats& s) noexcept {
  return row.kind == stat_kind::percent ? row.value(s) / 100.0 : row.value(s);
}

double metric_value(const inbox_stat& row, const inbox::stats& s) noexcept {
  return row.kind == stat_kind::percent ? std::round(row.value(s) * 10.0) / 10.0 : row.value(s);
}

}  // namespace sluice::runtime
