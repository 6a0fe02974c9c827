// timeline: values land in the interval of their time, a run longer than the intervals allow
// doubles the width without losing or moving anything, timelines of several sinks line up,
// and the sink's latency timeline keeps every latency in the interval it arrived in.
#include "actors/loadtest/timeline.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>

using namespace sluice::actors;

TEST_CASE("a sample lands in the interval that holds its time") {
  timeline<level_cell> t(10, 100);
  t.at(0).add(1);
  t.at(9).add(3);
  t.at(10).add(5);
  t.at(-4).add(7);  // before the start counts as the first interval
  REQUIRE(t.cells().size() == 2);
  CHECK(t.cells()[0].samples == 3);
  CHECK(t.cells()[0].sum == 11);
  CHECK(t.cells()[0].max == 7);
  CHECK(t.cells()[1].mean() == 5);
}

TEST_CASE("a time past the last interval doubles the width until it fits, keeping every sample") {
  timeline<level_cell> t(10, 4);
  for (std::int64_t at = 0; at < 40; at += 10) t.at(at).add(1);
  REQUIRE(t.width_ns() == 10);
  t.at(45).add(100);  // interval 4 of 4: the width doubles to 20, and it is interval 2
  CHECK(t.width_ns() == 20);
  REQUIRE(t.cells().size() == 3);
  CHECK(t.cells()[0].samples == 2);
  CHECK(t.cells()[1].samples == 2);
  CHECK(t.cells()[2].max == 100);
  t.at(1000).add(1);  // far beyond: several doublings at once
  CHECK(t.width_ns() == 320);
  double samples = 0;
  for (const auto& c : t.cells()) samples += static_cast<double>(c.samples);
  CHECK(samples == 6);
  CHECK(t.cells().size() <= 4);
}

TEST_CASE("timelines of different widths merge interval by interval at the coarser width") {
  timeline<level_cell> a(10, 4);
  timeline<level_cell> b(10, 4);
  a.at(5).add(1);
  a.at(15).add(2);
  b.at(75).add(4);  // b doubles to width 20, then 40... 75 / 20 = 3 < 4: width 20
  REQUIRE(b.width_ns() == 20);
  a.merge(b);
  CHECK(a.width_ns() == 20);
  REQUIRE(a.cells().size() == 4);
  CHECK(a.cells()[0].sum == 3);  // 5 and 15 share [0, 20)
  CHECK(a.cells()[3].sum == 4);
}

TEST_CASE("an interval's latency percentiles equal those of a histogram of the same values") {
  std::mt19937_64 rng{5};
  std::lognormal_distribution<double> dist{std::log(50000.0), 1.0};
  latency_timeline line(1000, 8);
  latency_histogram whole;
  latency_histogram second_interval;
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t t = i % 2000;  // times 0..1999: two intervals of 1000
    const auto v = static_cast<std::uint64_t>(dist(rng));
    line.record(t, v);
    whole.record(v);
    if (t >= 1000) second_interval.record(v);
  }
  const auto& cells = line.finish().cells();
  REQUIRE(cells.size() == 2);
  CHECK(cells[0].count() + cells[1].count() == whole.count());
  for (const double p : {0.0, 50.0, 99.0, 99.9, 100.0}) {
    INFO("p" << p);
    CHECK(cells[1].percentile(p) == second_interval.percentile(p));
  }
  CHECK(cells[1].max() == second_interval.max());
  interval_latency merged = cells[0];
  merged.merge(cells[1]);
  for (const double p : {50.0, 99.0}) CHECK(merged.percentile(p) == whole.percentile(p));
}

TEST_CASE("a latency timeline that outgrows its intervals keeps every message") {
  latency_timeline line(10, 4);
  for (std::int64_t t = 0; t < 1000; ++t) line.record(t, static_cast<std::uint64_t>(t));
  const auto& done = line.finish();
  CHECK(done.width_ns() == 320);
  std::uint64_t total = 0;
  for (const auto& c : done.cells()) total += c.count();
  CHECK(total == 1000);
  CHECK(done.cells().back().max() == 999);
}
