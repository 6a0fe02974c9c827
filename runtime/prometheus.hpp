#pragma once
// Prometheus text exposition format 0.0.4 for metrics.prom (node_exporter textfile
// collector) and the monitors' /metrics endpoint. The monitors collect samples; this
// renders them (HELP/TYPE once per family, base units, counters end in _total, label values
// escaped) and writes the file atomically (temp file in the same directory + rename).
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/result.hpp"

namespace sluice::runtime {

enum class prom_type { gauge, counter };

struct prom_family {
  const char* name;
  prom_type type;
  const char* help;
};

// The families sluice exports, so every producer spells them the same way. The per-inbox ones
// are shown through runtime/inbox_stats.hpp.
namespace prom {
inline constexpr prom_family inbox_messages{"sluice_inbox_messages", prom_type::gauge,
                                            "Messages pending in the inbox, all lanes."};
inline constexpr prom_family inbox_capacity{"sluice_inbox_capacity", prom_type::gauge,
                                            "Regular slots of the inbox (MAX_INBOX_SIZE)."};
inline constexpr prom_family inbox_utilization_ratio{
    "sluice_inbox_utilization_ratio", prom_type::gauge,
    "Regular messages pending divided by the regular capacity (0 to 1)."};
inline constexpr prom_family inbox_critical_messages{
    "sluice_inbox_critical_messages", prom_type::gauge,
    "Critical messages pending in the inbox's reserve."};
inline constexpr prom_family inbox_critical_capacity{
    "sluice_inbox_critical_capacity", prom_type::gauge, "Slots of the inbox's critical reserve."};
inline constexpr prom_family messages_dropped_total{
    "sluice_messages_dropped_total", prom_type::counter,
    "Messages evicted by senders that asked for drop-oldest."};
inline constexpr prom_family slots_abandoned_total{
    "sluice_slots_abandoned_total", prom_type::counter,
    "Slots skipped because their producer died before publishing."};
inline constexpr prom_family slots_corrupt_total{
    "sluice_slots_corrupt_total", prom_type::counter,
    "Slots skipped, or pushes refused, because the inbox file lied."};
inline constexpr prom_family send_failures_total{
    "sluice_send_failures_total", prom_type::counter,
    "Sends that gave up: the inbox stayed full until their deadline."};
inline constexpr prom_family messages_enqueued_total{
    "sluice_messages_enqueued_total", prom_type::counter, "Messages accepted into the inbox."};
inline constexpr prom_family messages_dequeued_total{
    "sluice_messages_dequeued_total", prom_type::counter, "Messages consumed from the inbox."};
inline constexpr prom_family send_rejected_full_total{
    "sluice_send_rejected_full_total", prom_type::counter,
    "Send attempts refused because the inbox was full."};
inline constexpr prom_family send_rejected_fair_share_total{
    "sluice_send_rejected_fair_share_total", prom_type::counter,
    "Of the refused send attempts, those whose sender held its fair share of a congested inbox."};
inline constexpr prom_family backpressure_waits_total{
    "sluice_backpressure_waits_total", prom_type::counter,
    "Times a sender waited for room in the inbox."};
inline constexpr prom_family circuit_breaker_state{
    "sluice_circuit_breaker_state", prom_type::gauge,
    "1 for the state the inbox's circuit breaker is in (closed, half_open or open), else 0."};
inline constexpr prom_family load_per_cpu{"sluice_load_per_cpu_ratio", prom_type::gauge,
                                          "CPU load divided by the number of CPUs."};
inline constexpr prom_family monitor_heartbeat_age{
    "sluice_monitor_heartbeat_age_seconds", prom_type::gauge,
    "Seconds since the load monitor last beat in bus.ctl."};
inline constexpr prom_family build_info{"sluice_build_info", prom_type::gauge,
                                        "Always 1; the labels say which sluice wrote this."};
inline constexpr prom_family batch_size{"sluice_batch_size", prom_type::gauge,
                                        "Batch size chosen by the load monitor."};
}  // namespace prom

struct prom_sample {
  const prom_family* family;
  std::vector<std::pair<std::string, std::string>> labels;  // e.g. {{"agent", "w1"}}
  double value;
};

// Samples of one family may be interleaved with others in the input; the output groups
// them under one HELP/TYPE header, families in order of first appearance.
std::string render_prometheus(const std::vector<prom_sample>& samples);

}  // namespace sluice::runtime
