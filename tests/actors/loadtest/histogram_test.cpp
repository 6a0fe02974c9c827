// latency_histogram: percentiles within the documented relative error of an exact sorted
// reference, exact min/max, and merging that equals recording everything in one histogram.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "actors/loadtest/latency_histogram.hpp"

using sluice::actors::latency_histogram;

namespace {

// Nearest-rank percentile of a sorted sample, the definition the histogram promises.
std::uint64_t reference_percentile(const std::vector<std::uint64_t>& sorted, double p) {
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// The histogram answers the top of the reference value's bucket: never below the true value,
// and above it by less than one bucket width (value / 2^(precision_bits-1)).
void require_within_precision(std::uint64_t got, std::uint64_t want) {
  const std::uint64_t slack = want >> (latency_histogram::precision_bits - 1);
  INFO("histogram " << got << " reference " << want);
  REQUIRE(got >= want);
  REQUIRE(got <= want + slack);
}

const double percentiles[] = {0, 1, 10, 50, 90, 99, 99.9, 99.99, 100};

}  // namespace

TEST_CASE("every value maps into a bucket whose bounds contain it") {
  std::mt19937_64 rng{42};
  std::vector<std::uint64_t> values{0,   1,    255,  256,        257,           511,
                                    512, 1023, 1024, UINT64_MAX, UINT64_MAX - 1};
  for (int i = 0; i < 100000; ++i) values.push_back(rng() >> (rng() % 64));
  for (const auto v : values) {
    const auto i = latency_histogram::index_of(v);
    INFO("value " << v << " index " << i);
    REQUIRE(i < latency_histogram::bucket_count);
    REQUIRE(latency_histogram::lowest_in(i) <= v);
    REQUIRE(v <= latency_histogram::highest_in(i));
  }
}

TEST_CASE("buckets tile the value range without gaps or overlaps") {
  for (std::size_t i = 0; i + 1 < latency_histogram::bucket_count; ++i) {
    INFO("index " << i);
    REQUIRE(latency_histogram::highest_in(i) + 1 == latency_histogram::lowest_in(i + 1));
  }
  REQUIRE(latency_histogram::lowest_in(0) == 0);
  REQUIRE(latency_histogram::highest_in(latency_histogram::bucket_count - 1) == UINT64_MAX);
}

TEST_CASE("values below the exact range are counted exactly") {
  latency_histogram h;
  for (std::uint64_t v = 0; v < latency_histogram::exact_below; ++v) h.record(v);
  for (const double p : percentiles) {
    std::vector<std::uint64_t> sorted;
    for (std::uint64_t v = 0; v < latency_histogram::exact_below; ++v) sorted.push_back(v);
    REQUIRE(h.percentile(p) == reference_percentile(sorted, p));
  }
}

TEST_CASE("percentiles match a sorted reference within the bucket precision") {
  std::mt19937_64 rng{7};
  SECTION("log-normal latencies around 20 microseconds") {
    std::lognormal_distribution<double> dist{std::log(20000.0), 1.0};
    std::vector<std::uint64_t> values;
    latency_histogram h;
    for (int i = 0; i < 200000; ++i) {
      const auto v = static_cast<std::uint64_t>(dist(rng));
      values.push_back(v);
      h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (const double p : percentiles)
      require_within_precision(h.percentile(p), reference_percentile(values, p));
    REQUIRE(h.min() == values.front());
    REQUIRE(h.max() == values.back());
    REQUIRE(h.count() == values.size());
  }
  SECTION("a few huge outliers in a narrow distribution") {
    std::vector<std::uint64_t> values;
    latency_histogram h;
    for (int i = 0; i < 9990; ++i) values.push_back(1000 + rng() % 50);
    for (int i = 0; i < 10; ++i) values.push_back(std::uint64_t{1} << (40 + i));
    for (const auto v : values) h.record(v);
    std::sort(values.begin(), values.end());
    for (const double p : percentiles)
      require_within_precision(h.percentile(p), reference_percentile(values, p));
  }
}

TEST_CASE("the reported percentile never exceeds the recorded maximum") {
  latency_histogram h;
  h.record(1000001);  // the top of its bucket is higher than the value itself
  REQUIRE(h.percentile(100) == 1000001);
  REQUIRE(h.percentile(50) == 1000001);
}

TEST_CASE("an empty histogram answers zero everywhere") {
  latency_histogram h;
  REQUIRE(h.count() == 0);
  REQUIRE(h.min() == 0);
  REQUIRE(h.max() == 0);
  REQUIRE(h.mean() == 0.0);
  REQUIRE(h.percentile(99) == 0);
  REQUIRE(h.buckets().empty());
}

TEST_CASE("merging histograms equals recording every value in one") {
  std::mt19937_64 rng{3};
  latency_histogram parts[4];
  latency_histogram all;
  for (int i = 0; i < 40000; ++i) {
    const auto v = (rng() % 1000000) * (i % 4 + 1);
    parts[i % 4].record(v);
    all.record(v);
  }
  latency_histogram merged;
  for (const auto& part : parts) merged.merge(part);
  merged.merge(latency_histogram{});
  REQUIRE(merged.count() == all.count());
  REQUIRE(merged.min() == all.min());
  REQUIRE(merged.max() == all.max());
  REQUIRE(merged.mean() == Approx(all.mean()));
  for (const double p : percentiles) REQUIRE(merged.percentile(p) == all.percentile(p));
  const auto a = merged.buckets();
  const auto b = all.buckets();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i].count == b[i].count);
}

TEST_CASE("record_n counts a value n times and the mean is exact for small sums") {
  latency_histogram h;
  h.record_n(10, 3);
  h.record_n(40, 1);
  h.record_n(99, 0);
  REQUIRE(h.count() == 4);
  REQUIRE(h.mean() == Approx(17.5));
  REQUIRE(h.percentile(75) == 10);
  REQUIRE(h.percentile(76) == 40);
  h.reset();
  REQUIRE(h.count() == 0);
}
