// result.json matches its documented schema (docs/loadtest-result.schema.json), and the HTML
// report is one self-contained page (no scripts, nothing fetched) with its charts, one unit
// style, and series styles that stay distinct past the palette's colours.
#include "actors/loadtest/report/report.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "actors/loadtest/report/chart.hpp"
#include "loadtest_sample.hpp"
#include "schema_check.hpp"

using namespace sluice::actors;
using sluice::test::sample_context;
using sluice::test::sample_result;

TEST_CASE("the result document matches the documented schema") {
  auto doc = result_document(sample_result(), sample_context());
  CHECK(sluice::test::schema_violations(doc) == "");
  // With a baseline and thresholds too.
  auto changes = compare_with_baseline(doc, doc);
  REQUIRE(changes);
  doc["baseline"] = baseline_json("old.json", doc, *changes);
  auto limits = parse_thresholds("p99>5ms,lost>0");
  REQUIRE(limits);
  doc["thresholds"] = thresholds_json(check_thresholds(*limits, sample_result()));
  CHECK(sluice::test::schema_violations(doc) == "");
  // And the schema is not a rubber stamp: a missing figure or a stray field is caught.
  auto broken = doc;
  broken["figures"].erase("latency_p99_us");
  broken["surprise"] = 1;
  const auto errors = sluice::test::schema_violations(broken);
  CHECK(errors.find("latency_p99_us") != std::string::npos);
  CHECK(errors.find("surprise") != std::string::npos);
}

TEST_CASE("the result document carries version, start, machine, configuration and every figure") {
  const auto r = sample_result();
  const auto doc = result_document(r, sample_context());
  CHECK(doc["schema"] == result_schema_id);
  CHECK(doc["sluice_version"] == "0.1.0");
  CHECK(doc["machine"]["cores"] == 2);
  CHECK(doc["config"]["senders"] == 4);
  CHECK(doc["runs"] == 1);
  CHECK(doc["figures"]["sent"]["mean"] == 20000);
  CHECK(doc["figures"]["sent"]["values"] == nlohmann::json::array({20000}));
  CHECK(doc["figures"]["latency_p99_us"]["mean"].get<double>() ==
        Approx(static_cast<double>(r.runs[0].latency_ns.percentile(99)) / 1000.0).margin(0.001));
  // Latency from when due is never below the service time of the same messages.
  CHECK(doc["figures"]["latency_p99_us"]["mean"].get<double>() >=
        doc["figures"]["service_time_p99_us"]["mean"].get<double>());
  CHECK(doc["lanes"].contains("critical"));
  CHECK(doc["lanes"].contains("high"));
  CHECK_FALSE(doc["lanes"].contains("low"));
  CHECK(doc["senders"].size() == 4);
}

TEST_CASE("repeated runs give every figure a mean and a spread") {
  const auto doc = result_document(sluice::test::long_sample_result(), sample_context());
  CHECK(doc["runs"] == 3);
  const auto& p99 = doc["figures"]["latency_mean_us"];
  CHECK(p99["values"].size() == 3);
  CHECK(p99["stddev"].get<double>() > 0);
  CHECK(p99["min"].get<double>() <= p99["mean"].get<double>());
  CHECK(p99["mean"].get<double>() <= p99["max"].get<double>());
  CHECK(doc["senders"][0]["sent"]["values"].size() == 3);
}

TEST_CASE("the HTML report is self-contained and holds every chart and table") {
  const auto html =
      render_report_html(sample_result(), result_document(sample_result(), sample_context(40000)));
  for (const char* id : {"throughput-chart", "latency-over-time-chart", "percentile-chart",
                         "lane-chart", "latency-chart", "utilization-chart", "waits-chart",
                         "figures-table", "lane-table", "sender-table", "setup-table"}) {
    INFO(id);
    CHECK(html.find(std::string{"id=\""} + id + "\"") != std::string::npos);
  }
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("&lt;x&gt; &amp; &quot;y&quot;") != std::string::npos);
  CHECK(html.find("<x>") == std::string::npos);
  CHECK(html.find("nothing lost") != std::string::npos);
  CHECK(html.find("target (rate x senders)") != std::string::npos);
}

TEST_CASE("the report uses one unit style and people's names, never raw keys") {
  const auto html =
      render_report_html(sample_result(), result_document(sample_result(), sample_context()));
  CHECK(html.find("p999") == std::string::npos);
  CHECK(html.find("p99.9") != std::string::npos);
  for (const char* raw : {"backpressure_waits", "send_failures", "breaker_trips",
                          "throughput_msgs_per_s", "_us<", "consumer_delay", "usable_cores"}) {
    INFO(raw);
    CHECK(html.find(raw) == std::string::npos);
  }
  CHECK(html.find(" us<") == std::string::npos);  // microseconds are µs everywhere
  CHECK(html.find("µs") != std::string::npos);
}

TEST_CASE("a report with losses says so and an empty run still renders") {
  auto r = sample_result();
  r.runs[0].totals.lost = 3;
  CHECK(render_report_html(r, result_document(r, sample_context())).find("3 lost") !=
        std::string::npos);
  const auto empty = render_report_html(loadtest_result{}, nlohmann::json::object());
  CHECK(empty.find("no messages received") != std::string::npos);
  CHECK(empty.find("id=\"utilization-chart\"") != std::string::npos);
}

TEST_CASE("series styles stay distinct past the palette's colours") {
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < distinct_series_styles; ++i) {
    const auto s = series_style(i);
    CHECK(seen.insert({s.color, s.dash}).second);
    CHECK(s.color != total_style().color);
    CHECK(s.color != target_style().color);
  }
  // Sink 0 and sink 8 of a ten-sink run: same colour family allowed, never the same look.
  CHECK((series_style(0).color != series_style(8).color ||
         series_style(0).dash != series_style(8).dash));
}

TEST_CASE("the utilisation axis ends at 100 percent however full the inbox was") {
  auto r = sample_result();
  for (auto& s : r.runs[0].sinks) s.utilization.at(0).add(1.0);
  const auto html = render_report_html(r, result_document(r, sample_context()));
  const auto chart = html.substr(html.find("id=\"utilization-chart\""));
  const auto svg = chart.substr(0, chart.find("</svg>"));
  CHECK(svg.find(">100%<") != std::string::npos);
  CHECK(svg.find(">120%<") == std::string::npos);
  CHECK(svg.find(">150%<") == std::string::npos);
}
