#pragma once
// Log-bucketed latency histogram in the style of HdrHistogram: constant relative precision
// over the whole uint64 range in a fixed 58 KiB of counters, so every sink can record every
// message without allocating, and histograms from many sinks merge by adding counts.
//
// Values below 2^precision_bits are counted exactly. Above that, a value v with its highest
// set bit at position m falls in a bucket of width 2^(m - precision_bits + 1); the bucket
// width is always below 1/2^(precision_bits-1) of the value (0.79 % with 8 bits), which is
// the error bound of every percentile this class reports.
//
// The unit is the caller's (loadtest records nanoseconds). Pure logic: no clock, no I/O.
#include <array>
#include <cstdint>
#include <vector>

namespace sluice::actors {

class latency_histogram {
 public:
  static constexpr unsigned precision_bits = 8;
  static constexpr std::uint64_t exact_below = std::uint64_t{1} << precision_bits;
  static constexpr std::size_t half_bucket = exact_below / 2;
  // Buckets for every exponent from precision_bits up to 63.
  static constexpr std::size_t bucket_count = exact_below + (64 - precision_bits) * half_bucket;

  struct bucket {
    std::uint64_t low;   // smallest value counted here
    std::uint64_t high;  // largest value counted here (inclusive)
    std::uint64_t count;
  };

  void record(std::uint64_t value) noexcept { record_n(value, 1); }
  void record_n(std::uint64_t value, std::uint64_t n) noexcept;
  void merge(const latency_histogram& other) noexcept;
  void reset() noexcept;

  std::uint64_t count() const noexcept { return total_; }
  // min/max are exact; both are 0 on an empty histogram.
  std::uint64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept;
  // Standard deviation over the buckets' middle values (as HdrHistogram computes it).
  double stddev() const noexcept;

  // Nearest-rank percentile, p in [0, 100]: the highest value equivalent to the recorded
  // value at rank ceil(p/100 * count), clamped to [min, max]. 0 on an empty histogram.
  std::uint64_t percentile(double p) const noexcept;

  // The non-empty buckets in ascending order (for charts).
  std::vector<bucket> buckets() const;

  static std::size_t index_of(std::uint64_t value) noexcept;
  static std::uint64_t lowest_in(std::size_t index) noexcept;
  static std::uint64_t highest_in(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  // long double: the sum of a million nanosecond latencies overflows no 64-bit mantissa, but
  // a merged multi-hour run could; precision of the mean matters less than not wrapping.
  long double sum_ = 0;
};

}  // namespace sluice::actors
