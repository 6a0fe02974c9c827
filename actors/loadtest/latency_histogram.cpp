#include "actors/loadtest/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::actors {

namespace {
unsigned highest_bit(std::uint64_t v) noexcept {
  return 63U - static_cast<unsigned>(__builtin_clzll(v));
}
}  // namespace

std::size_t latency_histogram::index_of(std::uint64_t value) noexcept {
  if (value < exact_below) return static_cast<std::size_t>(value);
  // shift >= 1: the value keeps precision_bits significant bits, the top one always set.
  const unsigned shift = highest_bit(value) - precision_bits + 1;
  const std::uint64_t mantissa = value >> shift;  // in [half_bucket, exact_below)
  return exact_below + (shift - 1) * half_bucket + static_cast<std::size_t>(mantissa - half_bucket);
}

std::uint64_t latency_histogram::lowest_in(std::size_t index) noexcept {
  if (index < exact_below) return index;
  const std::size_t above = index - exact_below;
  const unsigned shift = static_cast<unsigned>(above / half_bucket) + 1;
  const std::uint64_t mantissa = half_bucket + above % half_bucket;
  return mantissa << shift;
}

std::uint64_t latency_histogram::highest_in(std::size_t index) noexcept {
  if (index < exact_below) return index;
  const unsigned shift = static_cast<unsigned>((index - exact_below) / half_bucket) + 1;
  return lowest_in(index) + ((std::uint64_t{1} << shift) - 1);
}

void latency_histogram::record_n(std::uint64_t value, std::uint64_t n) noexcept {
  if (n == 0) return;
  counts_[index_of(value)] += n;
  total_ += n;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * static_cast<long double>(n);
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  if (other.total_ == 0) return;
  for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void latency_histogram::reset() noexcept {
  *this = latency_histogram{};
}

double latency_histogram::mean() const noexcept {
  return total_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(total_));
}

double latency_histogram::stddev() const noexcept {
  if (total_ == 0) return 0.0;
  const long double m = sum_ / static_cast<long double>(total_);
  long double squares = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    if (counts_[i] == 0) continue;
    const long double middle =
        (static_cast<long double>(lowest_in(i)) + static_cast<long double>(highest_in(i))) / 2;
    squares += (middle - m) * (middle - m) * static_cast<long double>(counts_[i]);
  }
  return static_cast<double>(std::sqrt(squares / static_cast<long double>(total_)));
}

std::uint64_t latency_histogram::percentile(double p) const noexcept {
  if (total_ == 0) return 0;
  const double clamped = std::clamp(p, 0.0, 100.0);
  // Nearest rank: the smallest recorded value with at least p % of the samples at or below.
  auto rank = static_cast<std::uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(total_)));
  rank = std::clamp<std::uint64_t>(rank, 1, total_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(highest_in(i), min_, max_);
  }
  return max_;
}

std::vector<latency_histogram::bucket> latency_histogram::buckets() const {
  std::vector<bucket> out;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    if (counts_[i] != 0) out.push_back({lowest_in(i), highest_in(i), counts_[i]});
  }
  return out;
}

}  // namespace sluice::actors
