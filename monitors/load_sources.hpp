#pragma once
// The two other load sources: /proc/pressure/cpu (PSI) and /proc/loadavg.
// Pure: the caller reads the file and passes its text.
#include <optional>
#include <string_view>

namespace sluice::monitors {

struct psi_line {
  double avg10 = 0, avg60 = 0, avg300 = 0;  // percent of wall time with stalled tasks
  unsigned long long total_us = 0;
};

struct psi_reading {
  psi_line some;
  std::optional<psi_line> full;  // the cpu file has it since Linux 5.13 (always zero there)
};

// Parses "some avg10=.. avg60=.. avg300=.. total=.." (and an optional "full" line).
std::optional<psi_reading> parse_psi(std::string_view text) noexcept;

// Load per CPU from PSI: the share of the last 10 s some task waited for a CPU, in [0, 1].
double psi_load(const psi_reading& r) noexcept;

// The 1-minute load average, the first field of /proc/loadavg.
std::optional<double> parse_loadavg(std::string_view text) noexcept;

}  // namespace sluice::monitors
