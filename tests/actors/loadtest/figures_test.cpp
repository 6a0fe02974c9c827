// The figures table, their mean and spread over runs, the one unit style, --fail-if's
// parsing and verdicts, and --baseline's comparison.
#include "actors/loadtest/figures.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "actors/loadtest/result_json.hpp"
#include "actors/loadtest/thresholds.hpp"
#include "loadtest_sample.hpp"

using namespace sluice::actors;

TEST_CASE("every figure has its own key and alias, and a latency figure is in microseconds") {
  std::set<std::string> names;
  for (std::size_t i = 0; i < figure_count; ++i) {
    const auto& f = figure_table[i];
    CHECK(names.insert(f.key).second);
    if (std::string{f.alias} != f.key) CHECK(names.insert(f.alias).second);
    CHECK(find_figure(f.key) == &f);
    CHECK(find_figure(f.alias) == &f);
    if (std::string{f.key}.find("_us") != std::string::npos)
      CHECK(f.unit == figure_unit::microseconds);
  }
  CHECK(find_figure("p98") == nullptr);
}

TEST_CASE("a figure over runs has its mean, sample standard deviation, extremes and values") {
  const auto s = spread_of({2, 4, 4, 4, 5, 5, 7, 9});
  CHECK(s.mean == 5);
  CHECK(s.stddev == Approx(2.138).epsilon(0.001));
  CHECK(s.min == 2);
  CHECK(s.max == 9);
  CHECK(s.values.size() == 8);
  CHECK(spread_of({3}).stddev == 0);
}

TEST_CASE("one unit style: latencies auto-scaled with three digits, rates with k and M") {
  CHECK(format_figure(figure_unit::microseconds, 137363.5) == "137 ms");
  CHECK(format_figure(figure_unit::microseconds, 31195.1) == "31.2 ms");
  CHECK(format_figure(figure_unit::microseconds, 850) == "850 µs");
  CHECK(format_figure(figure_unit::microseconds, 999.9) == "1.00 ms");
  CHECK(format_figure(figure_unit::microseconds, 0.512) == "512 ns");
  CHECK(format_figure(figure_unit::microseconds, 1250000) == "1.25 s");
  CHECK(format_figure(figure_unit::msgs_per_s, 57948.9) == "57.9k msgs/s");
  CHECK(format_figure(figure_unit::msgs_per_s, 1234567) == "1.23M msgs/s");
  CHECK(format_figure(figure_unit::count, 20000) == "20000");
  CHECK(format_figure(figure_unit::count, 0.5) == "0.5");
  CHECK(format_figure(figure_unit::seconds, 0.345) == "0.345 s");
  CHECK(format_tick(figure_unit::microseconds, 10000) == "10 ms");
  CHECK(format_tick(figure_unit::msgs_per_s, 50000) == "50k msgs/s");
  CHECK(format_spread(figure_unit::microseconds, spread_of({1000, 3000})) == "2.00 ms ± 1.41 ms");
}

TEST_CASE("a --fail-if list reads figures, comparisons and values with their units") {
  auto parsed =
      parse_thresholds("p99>5ms, lost>0,throughput<100k ,service-p99.9>=250us,duration<=2s");
  REQUIRE(parsed);
  const auto& t = *parsed;
  REQUIRE(t.size() == 5);
  CHECK(std::string{t[0].fig->key} == "latency_p99_us");
  CHECK(t[0].op == comparison::above);
  CHECK(t[0].limit == 5000);
  CHECK(std::string{t[1].fig->key} == "lost");
  CHECK(t[1].limit == 0);
  CHECK(std::string{t[2].fig->key} == "throughput_msgs_per_s");
  CHECK(t[2].op == comparison::below);
  CHECK(t[2].limit == 100000);
  CHECK(t[3].op == comparison::at_or_above);
  CHECK(t[3].limit == 250);
  CHECK(t[4].op == comparison::at_or_below);
  CHECK(t[4].limit == 2);
  CHECK(crossed(t[0], 5001));
  CHECK_FALSE(crossed(t[0], 5000));
  CHECK(crossed(t[1], 1));
  CHECK(crossed(t[2], 99999));
  CHECK(crossed(t[3], 250));
  CHECK(describe_crossing(t[0], 31195.1) == "latency p99 31.2 ms > 5.00 ms");
}

TEST_CASE("a malformed --fail-if is refused with one line naming the item") {
  for (const char* bad : {"", "p99", "p99>5", "p98>5ms", "lost>1ms", "throughput<fast", ">5ms",
                          "p99=5ms", "lost>0,,p99>1ms", "throughput<100x"}) {
    INFO(bad);
    const auto r = parse_thresholds(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == sluice::runtime::errc::invalid_argument);
    CHECK(r.err().message.rfind("--fail-if: ", 0) == 0);
    CHECK(r.err().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("thresholds are held against the mean over the runs") {
  loadtest_result r;
  r.runs.push_back(sluice::test::sample_run(1, 0.1, 1, 1000));
  r.runs.push_back(r.runs.back());
  r.runs[0].totals.lost = 0;
  r.runs[1].totals.lost = 1;
  auto limits = parse_thresholds("lost>0,lost>1");
  REQUIRE(limits);
  const auto out = check_thresholds(*limits, r);
  REQUIRE(out.size() == 2);
  CHECK(out[0].measured == 0.5);
  CHECK(out[0].crossed);
  CHECK_FALSE(out[1].crossed);
}

TEST_CASE("a baseline comparison says per figure how much it changed and whether that is better") {
  auto before = sluice::test::sample_result();
  auto after = before;
  after.runs[0].totals.throughput_msgs_per_s *= 2;
  after.runs[0].totals.lost = 3;
  const auto ctx = sluice::test::sample_context();
  const auto old_doc = result_document(before, ctx);
  const auto new_doc = result_document(after, ctx);
  auto changes = compare_with_baseline(old_doc, new_doc);
  REQUIRE(changes);
  REQUIRE(changes->size() == figure_count);
  auto change_of = [&](const char* key) {
    for (const auto& c : *changes) {
      if (std::string{c.fig->key} == key) return c;
    }
    FAIL("no change for " << key);
    return figure_change{};
  };
  CHECK(change_of("throughput_msgs_per_s").verdict == change_verdict::better);
  CHECK(*change_of("throughput_msgs_per_s").change_pct == Approx(100.0));
  CHECK(change_of("lost").verdict == change_verdict::worse);
  CHECK_FALSE(change_of("lost").change_pct);  // from 0: no percentage
  CHECK(change_of("latency_p99_us").verdict == change_verdict::unchanged);
  const auto table = baseline_table(*changes);
  CHECK(table.find("throughput") != std::string::npos);
  CHECK(table.find("+100.0 %  better") != std::string::npos);
}

TEST_CASE("a difference within the runs' spread is not called better or worse") {
  auto doc = result_document(sluice::test::sample_result(), sluice::test::sample_context());
  auto old_doc = doc;
  old_doc["figures"]["latency_p99_us"]["mean"] =
      doc["figures"]["latency_p99_us"]["mean"].get<double>() * 1.01;
  old_doc["figures"]["latency_p99_us"]["stddev"] =
      doc["figures"]["latency_p99_us"]["mean"].get<double>() * 0.05;
  auto changes = compare_with_baseline(old_doc, doc);
  REQUIRE(changes);
  for (const auto& c : *changes) {
    if (std::string{c.fig->key} == "latency_p99_us")
      CHECK(c.verdict == change_verdict::within_spread);
  }
}

TEST_CASE("a baseline that is not a result of this schema is refused") {
  auto doc = result_document(sluice::test::sample_result(), sluice::test::sample_context());
  for (auto bad : {nlohmann::json::array(), nlohmann::json{{"schema", "other/1"}, {"figures", {}}},
                   nlohmann::json{{"schema", result_schema_id}}}) {
    const auto r = compare_with_baseline(bad, doc);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == sluice::runtime::errc::invalid_argument);
  }
}
