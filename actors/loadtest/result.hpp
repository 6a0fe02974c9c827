#pragma once
// What a load test measured, as plain data (no CAF): the CLI prints it as JSON and renders
// the HTML report from it; the load-test actors fill it in. One loadtest_run per repetition.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/loadtest/latency_histogram.hpp"
#include "actors/loadtest/sender.hpp"
#include "actors/loadtest/timeline.hpp"
#include "inbox/lanes.hpp"

namespace sluice::actors {

struct loadtest_totals {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  double throughput_msgs_per_s = 0;
  std::uint64_t backpressure_waits = 0;
  std::uint64_t send_failures = 0;
  std::uint64_t breaker_trips = 0;
  double duration_s = 0;
};

// One sink over time, on the run's common interval width (loadtest_run::interval_ns).
struct sink_series {
  std::string sink;
  std::vector<std::uint64_t> received;  // messages that arrived in each interval
  timeline<level_cell> utilization;     // fill of the regular slots, 0..1, each sample
};

// A sender's own account (its report without the per-stream counts).
struct sender_summary {
  std::uint32_t id = 0;
  std::uint64_t sent = 0;
  std::uint64_t backpressure_waits = 0;
  std::uint64_t send_failures = 0;
  std::uint64_t send_call_p50_ns = 0;
  std::uint64_t send_call_p99_ns = 0;
  std::uint64_t send_call_max_ns = 0;
  std::uint64_t max_behind_schedule_ns = 0;
  double active_s = 0;
};

struct loadtest_run {
  loadtest_totals totals;
  // Latency: from when each message was due (its sender's schedule with --rate, else the
  // start of its send) to its arrival; merged over every sink.
  latency_histogram latency_ns;
  std::array<latency_histogram, inbox::lane_count> latency_by_lane;  // index: inbox::priority
  // Service time: from the start of each message's send to its arrival.
  latency_histogram service_ns;
  // Over time, every series on one interval width, from the moment the senders were released.
  timeline<interval_latency> latency_over_time;  // every sink's latency by arrival interval
  timeline<level_cell> backpressure_waits;       // waits counted in each interval (sum)
  std::vector<sink_series> sinks;
  std::vector<sender_summary> senders;
  std::int64_t interval_ns() const noexcept { return latency_over_time.width_ns(); }
};

// Every repetition of one configuration (--repeat N gives N runs).
struct loadtest_result {
  std::vector<loadtest_run> runs;
};

}  // namespace sluice::actors
