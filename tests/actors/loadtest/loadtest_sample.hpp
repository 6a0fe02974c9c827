#pragma once
// One deterministic load-test result (two sinks, 20k log-normal latencies) shared by the
// report tests, so the JSON, HTML and browser checks look at the same data.
#include <cmath>
#include <cstdint>
#include <random>

#include "actors/loadtest/report.hpp"

namespace sluice::test {

inline sluice::actors::loadtest_result sample_result() {
  sluice::actors::loadtest_result r;
  r.totals.sent = 20000;
  r.totals.received = 20000;
  r.totals.throughput_msgs_per_s = 123456.78;
  r.totals.backpressure_waits = 17;
  r.totals.duration_s = 0.16201;
  std::mt19937_64 rng{1};
  std::lognormal_distribution<double> dist{std::log(30000.0), 0.8};
  for (int i = 0; i < 20000; ++i) r.latency_ns.record(static_cast<std::uint64_t>(dist(rng)));
  for (const char* name : {"sink-0", "sink-1"}) {
    sluice::actors::sink_series s;
    s.sink = name;
    for (int i = 1; i <= 10; ++i) {
      s.throughput_msgs_per_s.push_back({i * 0.1, 50000.0 + 1000.0 * i});
      s.utilization.push_back({i * 0.1, 0.05 * i});
    }
    r.sinks.push_back(s);
  }
  return r;
}

}  // namespace sluice::test
