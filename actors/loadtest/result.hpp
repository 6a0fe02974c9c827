#pragma once
// What a load test measured, as plain data (no CAF): the CLI prints it as JSON and renders
// the HTML report from it; the load-test actors fill it in.
#include <cstdint>
#include <string>
#include <vector>

#include "actors/loadtest/latency_histogram.hpp"

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

// One sampled value per sink over time, t in seconds since the test started.
struct sample_point {
  double t_s;
  double value;
};

struct sink_series {
  std::string sink;
  std::vector<sample_point> throughput_msgs_per_s;  // received per second in each interval
  std::vector<sample_point> utilization;            // inbox fill, 0..1 (critical reserve excluded)
};

struct loadtest_result {
  loadtest_totals totals;
  actors::latency_histogram latency_ns;  // end-to-end, merged over every sink
  std::vector<sink_series> sinks;
};

}  // namespace sluice::actors
