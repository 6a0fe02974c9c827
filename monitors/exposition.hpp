#pragma once
// metrics.prom content: a function of the bus as it is now (every inbox header, bus.ctl and
// the bridge links' status files), not of one monitor's memory. So the overflow and the load
// monitor, in one process or in two, each rewrite the same complete file, and the /metrics
// endpoint renders it per scrape.
#include <filesystem>
#include <string>

#include "runtime/result.hpp"

namespace sluice::monitors {

inline constexpr const char* prom_file_name = "metrics.prom";

// Prometheus text for every inbox in bus_dir, the load monitor's decision in bus.ctl, and
// every bridge link (bridge-<peer>.json).
// Inboxes that vanish or fail to open between listing and reading are skipped.
std::string render_bus_metrics(const std::filesystem::path& bus_dir);

// render_bus_metrics written to <bus_dir>/metrics.prom atomically.
runtime::status write_bus_metrics(const std::filesystem::path& bus_dir);

}  // namespace sluice::monitors
