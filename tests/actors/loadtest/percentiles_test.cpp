// The percentile distribution follows HdrHistogram's iterator (its levels, its last point at
// 100 %), and the .hgrm export is its text format: header, one parsable line per level, the
// last without 1/(1-p), the Mean/Max/Buckets footer, values scaled as asked.
#include "actors/loadtest/report/percentiles.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace sluice::actors;

namespace {

latency_histogram lognormal(std::uint64_t n) {
  std::mt19937_64 rng{9};
  std::lognormal_distribution<double> dist{std::log(40000.0), 0.9};
  latency_histogram h;
  for (std::uint64_t i = 0; i < n; ++i) h.record(static_cast<std::uint64_t>(dist(rng)));
  return h;
}

}  // namespace

TEST_CASE("the distribution steps through HdrHistogram's levels and ends at 100 percent") {
  const auto h = lognormal(100000);
  const auto points = percentile_distribution(h);
  REQUIRE(points.size() > 20);
  // The first levels are 0, 10, 20, ... 50, then 55, 60 ... (5 ticks per half distance).
  std::vector<double> levels;
  for (std::size_t i = 0; i < 8; ++i) levels.push_back(points[i].percentile);
  CHECK(levels == std::vector<double>{0, 10, 20, 30, 40, 50, 55, 60});
  for (std::size_t i = 1; i < points.size(); ++i) {
    CHECK(points[i].percentile >= points[i - 1].percentile);
    CHECK(points[i].value >= points[i - 1].value);
    CHECK(points[i].count_at_or_below >= points[i - 1].count_at_or_below);
    // Each point's bucket holds the rank of its level.
    CHECK(static_cast<double>(points[i].count_at_or_below) >=
          points[i].percentile / 100.0 * 100000 - 1e-6);
  }
  CHECK(points.back().percentile == 100.0);
  CHECK(points.back().count_at_or_below == h.count());
  CHECK(points.back().value >= h.max());
  CHECK(percentile_distribution(latency_histogram{}).empty());
}

TEST_CASE("the hgrm text is HdrHistogram's percentile format, values in the unit asked for") {
  const auto h = lognormal(5000);
  const std::string text = hgrm_text(h, 1000.0);
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  CHECK(line == "       Value     Percentile TotalCount 1/(1-Percentile)");
  std::getline(in, line);
  CHECK(line.empty());
  const auto points = percentile_distribution(h);
  std::size_t rows = 0;
  std::vector<std::string> footer;
  while (std::getline(in, line)) {
    if (line.rfind("#[", 0) == 0) {
      footer.push_back(line);
      continue;
    }
    std::istringstream fields(line);
    double value = 0;
    double fraction = 0;
    std::uint64_t count = 0;
    double inverse = 0;
    REQUIRE(fields >> value >> fraction >> count);
    REQUIRE(rows < points.size());
    const auto& p = points[rows];
    CHECK(value == Approx(static_cast<double>(p.value) / 1000.0).margin(0.0005));
    CHECK(fraction == Approx(p.percentile / 100.0).margin(1e-12));
    CHECK(count == p.count_at_or_below);
    if (p.percentile < 100.0) {
      REQUIRE(fields >> inverse);
      CHECK(inverse == Approx(1.0 / (1.0 - fraction)).epsilon(0.01));
    } else {
      CHECK_FALSE(fields >> inverse);  // the 100 % line has no 1/(1-p)
    }
    ++rows;
  }
  CHECK(rows == points.size());
  REQUIRE(footer.size() == 3);
  CHECK(footer[0].rfind("#[Mean    = ", 0) == 0);
  CHECK(footer[1].find(", Total count    = ") != std::string::npos);
  CHECK(footer[1].find(std::to_string(h.count()) + "]") != std::string::npos);
  CHECK(footer[2] == "#[Buckets =           57, SubBuckets     =          256]");
}

TEST_CASE("the standard deviation of a histogram is that of its values within bucket precision") {
  latency_histogram h;
  for (std::uint64_t v : {100, 200, 300, 400, 500}) h.record(v);
  CHECK(h.stddev() == Approx(141.42).epsilon(0.01));
  CHECK(latency_histogram{}.stddev() == 0.0);
}
