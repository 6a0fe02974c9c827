#pragma once
// The report of `sluice loadtest --report DIR`: a self-contained HTML page with inline SVG
// charts (no scripts, no network, so a report directory can be mailed or attached to a CI run
// and still open anywhere), result.json beside it, and the latency percentile distributions
// in HdrHistogram's text format (.hgrm) for its plotter and other tools.
//
// What the page shows: the verdict; every figure (mean ± spread with --repeat, the change
// against --baseline, --fail-if thresholds); throughput over time, total and per sink, with the
// target of --rate; latency over time (p50, p99, max per interval); latency and service time
// as percentile curves on a "nines" axis; latency per lane (with --priority-mix); the latency
// distribution; inbox utilisation and backpressure waits over time; per-lane and per-sender
// tables; the configuration and the machine.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "actors/loadtest/result.hpp"

namespace sluice::actors {

// The page. doc is the run's result.json document (result_json.hpp), which carries the
// configuration, the machine, and the baseline and thresholds when they were asked for.
// Charts carry ids (throughput-chart, latency-over-time-chart, percentile-chart, lane-chart,
// latency-chart, utilization-chart, waits-chart) so tests and people can find them.
std::string render_report_html(const loadtest_result& result, const nlohmann::json& doc);

// Writes <dir>/index.html, <dir>/result.json, <dir>/latency.hgrm and <dir>/service-time.hgrm
// (dir created when missing; .hgrm values in microseconds, over every run). Throws
// cli_error(os_error / io_error) naming the path when it cannot.
void write_report(const std::filesystem::path& dir, const loadtest_result& result,
                  const nlohmann::json& doc);

}  // namespace sluice::actors
