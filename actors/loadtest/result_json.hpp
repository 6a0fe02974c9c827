#pragma once
// result.json (and `--json`): one document per `sluice loadtest`, in the schema that
// docs/loadtest-result.md describes and docs/loadtest-result.schema.json checks. It carries
// everything needed to compare runs by script: the whole configuration, the sluice version,
// the machine, the start time, and every figure as mean and spread over the --repeat runs.
// Also --baseline: the change of every figure against an earlier result.json.
//
// Pure logic: the caller reads the files and the clock.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "actors/loadtest/figures.hpp"
#include "actors/loadtest/machine.hpp"
#include "actors/loadtest/result.hpp"
#include "actors/loadtest/thresholds.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

inline constexpr const char* result_schema_id = "sluice-loadtest-result/1";

struct run_context {
  std::string sluice_version;
  std::string started_at;    // ISO-8601 UTC of the first run
  std::string command_line;  // how the run was started, rebuilt from the parsed flags
  machine_info machine;
  nlohmann::json config;  // the "config" object (see the schema), built by the verb
};

// Every figure of figure_table over the runs, in table order.
std::vector<spread> figure_spreads(const loadtest_result& r);

// One figure's JSON: {"unit","mean","stddev","min","max","values"}.
nlohmann::json figure_json(figure_unit unit, const spread& s);

// The document without "baseline" and "thresholds" (the verb adds those when asked).
nlohmann::json result_document(const loadtest_result& r, const run_context& ctx);

// The result for people, a few lines: counts, throughput, latency and service time
// percentiles, waits; each figure as format_spread shows it.
std::string summary_text(const loadtest_result& r);

enum class change_verdict {
  unchanged,      // the same mean
  within_spread,  // the means differ by no more than the two runs' standard deviations
  better,
  worse,
  changed,  // a figure that is neither better nor worse (sent, duration)
};
const char* to_string(change_verdict v) noexcept;

struct figure_change {
  const figure* fig = nullptr;
  spread before;  // mean, stddev and the values as the baseline has them
  spread after;
  std::optional<double> change_pct;  // (after - before) / before; none when before is 0
  change_verdict verdict = change_verdict::unchanged;
};

// Every figure both documents have. Fails with errc::invalid_argument (exit 65) when the
// baseline is not a loadtest result of this schema.
runtime::result<std::vector<figure_change>> compare_with_baseline(const nlohmann::json& baseline,
                                                                  const nlohmann::json& now);

// {"file","started_at","sluice_version","figures":{key:{"before","after","change_pct","verdict"}}}
nlohmann::json baseline_json(const std::string& file, const nlohmann::json& baseline,
                             const std::vector<figure_change>& changes);

// The comparison as a table for people, one line per figure:
// "latency p99            31.2 ms  ->  28.1 ms    -9.9 %  better".
std::string baseline_table(const std::vector<figure_change>& changes);

struct threshold_outcome {
  threshold limit;
  double measured = 0;  // the mean over the runs
  bool crossed = false;
};
std::vector<threshold_outcome> check_thresholds(const std::vector<threshold>& limits,
                                                const loadtest_result& r);
// [{"text","figure","limit","measured","failed"}]
nlohmann::json thresholds_json(const std::vector<threshold_outcome>& outcomes);

}  // namespace sluice::actors
