#pragma once
// CPU load from /proc/stat: the aggregate "cpu" line's busy share between two readings.
// Pure: the caller reads the file and passes its text.
#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::monitors {

// Jiffies from the aggregate "cpu" line, in the kernel's field order (proc(5)).
struct cpu_times {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                steal = 0, guest = 0, guest_nice = 0;
  // guest and guest_nice are already counted inside user and nice, so they are not added.
  std::uint64_t busy() const noexcept { return user + nice + system + irq + softirq + steal; }
  std::uint64_t idle_all() const noexcept { return idle + iowait; }
};

// Parses the first "cpu " line; kernels older than 2.6.33 print fewer fields (rest stay 0).
std::optional<cpu_times> parse_proc_stat(std::string_view text) noexcept;

// Load per CPU in [0, 1] from consecutive readings.
class cpu_load_meter {
 public:
  // Empty on the first reading, when no time passed, or when the totals went backwards
  // (counter wrap or reset: the reading becomes the new baseline). A single field that goes
  // backwards (iowait may, per proc(5)) counts as zero progress for that field.
  std::optional<double> step(const cpu_times& now) noexcept;

 private:
  std::optional<cpu_times> prev_;
};

}  // namespace sluice::monitors
