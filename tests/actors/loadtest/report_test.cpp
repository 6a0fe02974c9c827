// The loadtest result JSON has exactly its documented shape, and the HTML report is one
// self-contained page (no scripts, nothing fetched) with its three SVG charts.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>
#include <string>

#include "actors/loadtest/report.hpp"
#include "loadtest_sample.hpp"

using sluice::actors::loadtest_result;
using sluice::test::sample_result;

TEST_CASE("the result JSON has exactly the documented fields") {
  const auto j = sluice::actors::loadtest_json(sample_result());
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
  sluice::actors::report_meta meta{"sluice loadtest --senders 4 <x> & \"y\"", "2026-01-01T00:00:00Z", "4 senders"};
  const auto html = sluice::actors::render_report_html(sample_result(), meta);
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
  REQUIRE(sluice::actors::render_report_html(r, {}).find("3 lost") != std::string::npos);
  const auto empty = sluice::actors::render_report_html(loadtest_result{}, {});
  REQUIRE(empty.find("no messages received") != std::string::npos);
  REQUIRE(empty.find("id=\"utilization-chart\"") != std::string::npos);
}
