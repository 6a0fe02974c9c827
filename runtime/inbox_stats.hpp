#pragma once
// The statistics of an inbox, in one table. get-stats, the doctor, the Prometheus exposition
// and the seed's metric lines all take their per-inbox fields from it, so a new per-inbox
// counter is a field of inbox::stats (filled by inbox::snapshot) and one row here.
#include <cstdint>
#include <string>

#include "inbox/inbox.hpp"
#include "runtime/prometheus.hpp"

namespace sluice::runtime {

enum class stat_kind {
  count,    // a whole number: JSON integer, Prometheus as is
  percent,  // 0..100: get-stats and get-utilization print it rounded down (the seed's integer
            // percent), metric lines with one decimal, Prometheus as a 0..1 ratio
};

// Where a row is shown (bits).
inline constexpr unsigned in_get_stats = 1u;
inline constexpr unsigned in_doctor = 2u;

struct inbox_stat {
  const char* key;  // JSON key in get-stats and in the doctor's counters
  stat_kind kind;
  double (*value)(const inbox::stats&);
  unsigned shown;
  prom_family prom;    // name nullptr: not exported
  const char* metric;  // seed metric line name ("inbox.size"); nullptr: none
};

// Regular messages pending as a percentage of the regular capacity: 0..100. Messages in the
// critical reserve are reported on their own (critical_size), so a full inbox never reads
// above 100.
double utilization_percent(const inbox::stats& s) noexcept;

extern const inbox_stat inbox_stat_table[];
extern const std::size_t inbox_stat_count;

// A row's value as get-stats prints it: a whole number.
std::uint64_t json_value(const inbox_stat& row, const inbox::stats& s) noexcept;
// A row's value in Prometheus base units.
double prom_value(const inbox_stat& row, const inbox::stats& s) noexcept;
// A row's value in a seed metric line (percent with one decimal).
double metric_value(const inbox_stat& row, const inbox::stats& s) noexcept;

}  // namespace sluice::runtime
