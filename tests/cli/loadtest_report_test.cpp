// The loadtest result JSON has exactly the shape issue 8 fixes, and the HTML report is one
// self-contained page (no scripts, nothing fetched) with its three SVG charts.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>
#include <string>

#include "cli/loadtest_report.hpp"

using sluice::actors::loadtest_result;

namespace {

loadtest_result sample_result() {
  loadtest_result r;
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

}  // namespace

TEST_CASE("the result JSON has exactly the documented fields") {
  const auto j = sluice::cli::loadtest_json(sample_result());
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  std::sort(keys.begin(), keys.end());
  REQUIRE(keys == std::vector<std::string>{"backpressure_waits", "breaker_trips", "duplicated", "duration_s",
                                           "latency_us", "lost", "received", "reordered", "send_failures",
                                           "sent", "throughput_msgs_per_s"});
  std::vector<std::string> latency;
  for (const auto& item : j["latency_us"].items()) latency.push_back(item.key());
  std::sort(latency.begin(), latency.end());
  REQUIRE(latency == std::vector<std::string>{"max", "p50", "p90", "p99", "p999"});
  REQUIRE(j["sent"] == 20000);
  REQUIRE(j["lost"] == 0);
  REQUIRE(j["latency_us"]["p50"].get<double>() == Approx(30.0).epsilon(0.1));
  REQUIRE(j["latency_us"]["p50"].get<double>() <= j["latency_us"]["p99"].get<double>());
  REQUIRE(j["latency_us"]["p99"].get<double>() <= j["latency_us"]["max"].get<double>());
}

TEST_CASE("the HTML report is self-contained and holds the three charts") {
  sluice::cli::report_meta meta{"sluice loadtest --senders 4 <x> & \"y\"", "2026-01-01T00:00:00Z", "4 senders"};
  const auto html = sluice::cli::render_report_html(sample_result(), meta);
  REQUIRE(html.find("id=\"throughput-chart\"") != std::string::npos);
  REQUIRE(html.find("id=\"latency-chart\"") != std::string::npos);
  REQUIRE(html.find("id=\"utilization-chart\"") != std::string::npos);
  REQUIRE(html.find("<script") == std::string::npos);
  REQUIRE(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
  REQUIRE(html.find("https://") == std::string::npos);
  REQUIRE(html.find("&lt;x&gt; &amp; &quot;y&quot;") != std::string::npos);
  REQUIRE(html.find("<x>") == std::string::npos);
  REQUIRE(html.find("nothing lost") != std::string::npos);
}

TEST_CASE("a report with losses says so and an empty run still renders") {
  auto r = sample_result();
  r.totals.lost = 3;
  REQUIRE(sluice::cli::render_report_html(r, {}).find("3 lost") != std::string::npos);
  const auto empty = sluice::cli::render_report_html(loadtest_result{}, {});
  REQUIRE(empty.find("no messages received") != std::string::npos);
  REQUIRE(empty.find("id=\"utilization-chart\"") != std::string::npos);
}
