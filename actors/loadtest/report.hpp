#pragma once
// The two outputs of `sluice loadtest`: the result JSON (its documented shape) and a
// self-contained HTML page with inline SVG charts (no scripts, no network), so a report
// directory can be mailed or attached to a CI run and still open anywhere.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/loadtest/result.hpp"

namespace sluice::actors {

// {"sent","received","lost","duplicated","reordered","throughput_msgs_per_s",
//  "latency_us":{"p50","p90","p99","p999","max"},"backpressure_waits","send_failures",
//  "breaker_trips","duration_s"}
nlohmann::json loadtest_json(const actors::loadtest_result& result);

struct report_meta {
  std::string command_line;  // how the run was started, shown verbatim (escaped)
  std::string started_at;    // ISO-8601 UTC
  std::string setup;         // one line: senders, sinks, payload, rate
};

// The whole page as one string. Charts carry ids throughput-chart, latency-chart and
// utilization-chart so tests (and people) can find them.
std::string render_report_html(const actors::loadtest_result& result, const report_meta& meta);

// Writes <dir>/index.html and <dir>/result.json (dir created when missing). Throws
// cli_error(os_error / io_error) naming the path when it cannot.
void write_report(const std::filesystem::path& dir, const actors::loadtest_result& result,
                  const report_meta& meta);

}  // namespace sluice::actors
