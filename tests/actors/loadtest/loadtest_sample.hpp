#pragma once
// Deterministic load-test results shared by the report tests, so the JSON, HTML and browser
// checks look at the same data: a short run (0.3 s, two sinks, 20k log-normal latencies in
// three lanes) and a long one (ten minutes, ten sinks, three repetitions, a --rate target).
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "actors/loadtest/machine.hpp"
#include "actors/loadtest/result_json.hpp"

namespace sluice::test {

inline sluice::actors::loadtest_run sample_run(std::uint32_t sinks, double seconds,
                                               std::uint64_t seed, std::uint64_t messages = 20000) {
  using namespace sluice::actors;
  loadtest_run r;
  r.totals.sent = messages;
  r.totals.received = messages;
  r.totals.duration_s = seconds;
  r.totals.throughput_msgs_per_s = static_cast<double>(messages) / seconds;
  r.totals.backpressure_waits = 17;
  std::mt19937_64 rng{seed};
  std::lognormal_distribution<double> dist{std::log(30000.0), 0.8};
  const auto end_ns = static_cast<std::int64_t>(seconds * 1e9);
  latency_timeline over_time;
  for (std::uint32_t s = 0; s < sinks; ++s)
    r.sinks.push_back({"loadtest-sink-" + std::to_string(s), {}, timeline<level_cell>{}});
  std::vector<latency_timeline> per_sink(sinks);
  for (std::uint64_t i = 0; i < messages; ++i) {
    const auto latency = static_cast<std::uint64_t>(dist(rng));
    const auto lane = static_cast<std::size_t>(i % 10 == 0  ? 3
                                               : i % 10 < 3 ? 2
                                                            : 1);  // critical, high, normal
    const auto t = static_cast<std::int64_t>(
        static_cast<double>(i) / static_cast<double>(messages) * static_cast<double>(end_ns));
    // Behind a schedule now and then: latency from when due grows past the service time.
    const std::uint64_t behind = (i / 1000) % 5 == 4 ? 2'000'000 : 0;
    r.latency_ns.record(latency + behind);
    r.latency_by_lane[lane].record(latency + behind);
    r.service_ns.record(latency);
    over_time.record(t, latency + behind);
    per_sink[i % sinks].record(t, latency + behind);
  }
  r.latency_over_time = over_time.finish();
  for (std::uint32_t s = 0; s < sinks; ++s) {
    auto own = per_sink[s].finish();
    own.coarsen_to(r.latency_over_time.width_ns());
    for (const auto& cell : own.cells()) r.sinks[s].received.push_back(cell.count());
    for (std::int64_t t = 0; t < end_ns; t += 5'000'000) {
      const double fill = 0.5 + 0.5 * std::sin(static_cast<double>(t) / 1e8 + s);
      r.sinks[s].utilization.at(t).add(fill);
    }
    r.sinks[s].utilization.coarsen_to(r.latency_over_time.width_ns());
  }
  for (std::int64_t t = 0; t < end_ns; t += 5'000'000)
    r.backpressure_waits.at(t).add(t % 50'000'000 == 0 ? 3 : 0);
  r.backpressure_waits.coarsen_to(r.latency_over_time.width_ns());
  for (std::uint32_t id = 0; id < 4; ++id) {
    r.senders.push_back(
        {id, messages / 4, 4, 0, 2000 + id, 90000 + id, 400000, 1000 * id, seconds});
  }
  return r;
}

inline sluice::actors::loadtest_result sample_result() {
  sluice::actors::loadtest_result r;
  r.runs.push_back(sample_run(2, 0.3, 1));
  return r;
}

inline sluice::actors::loadtest_result long_sample_result() {
  sluice::actors::loadtest_result r;
  for (std::uint64_t seed = 1; seed <= 3; ++seed)
    r.runs.push_back(sample_run(10, 600, seed, 200000));
  return r;
}

inline sluice::actors::run_context sample_context(double target = 0) {
  sluice::actors::run_context ctx;
  ctx.sluice_version = "0.1.0";
  ctx.started_at = "2026-01-01T00:00:00Z";
  ctx.command_line = "sluice loadtest --senders 4 <x> & \"y\"";
  ctx.machine = {"Test CPU", 2, 2, "Linux 6.1.0 x86_64", "host"};
  ctx.config = {{"senders", 4},
                {"sinks", 2},
                {"sender_mode", "processes"},
                {"messages", 20000},
                {"duration_s", 0.0},
                {"rate_per_sender", target / 4},
                {"target_throughput_msgs_per_s", target},
                {"payload_min_bytes", 256},
                {"payload_max_bytes", 256},
                {"priority_mix", {{"normal", 7}, {"high", 2}, {"critical", 1}}},
                {"consumer_delay_us", 0.0},
                {"inbox_capacity", 1000},
                {"inbox_critical_reserve", 64},
                {"inbox_slot_bytes", 4096},
                {"repeat", 1},
                {"sample_interval_ms", 5}};
  return ctx;
}

}  // namespace sluice::test
