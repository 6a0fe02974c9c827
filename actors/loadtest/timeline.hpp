#pragma once
// Values over the time of a load test, in equal intervals from its start. A run's length is
// not known in advance (--messages), so a timeline starts with fine intervals (10 ms) and keeps
// at most max_intervals of them: a value past the last merges neighbours pairwise and doubles
// the width. A 0.3 s run thus keeps 30 intervals of 10 ms, an hour-long run about 180 of
// 20 s, in bounded memory. Timelines with the same first width line up after coarsening, so
// those of several sinks merge interval by interval.
//
// Pure logic: time is given by the caller in nanoseconds since the start.
#include <cstdint>
#include <utility>
#include <vector>

#include "actors/loadtest/latency_histogram.hpp"

namespace sluice::actors {

// A level sampled now and then (an inbox's fill), or amounts added up (waits): the sum, the
// largest sample and how many samples fell in the interval.
struct level_cell {
  double sum = 0;
  double max = 0;
  std::uint64_t samples = 0;

  void add(double v) noexcept;
  void merge(const level_cell& o) noexcept;
  double mean() const noexcept { return samples == 0 ? 0.0 : sum / static_cast<double>(samples); }
};

// The latencies that fell in one interval, as (bucket index, count) pairs of
// latency_histogram's buckets: an interval holds tens to hundreds of buckets, not all 7424.
// Percentiles follow latency_histogram's definition.
class interval_latency {
 public:
  void add(const latency_histogram& h);
  void merge(const interval_latency& o);
  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t max() const noexcept { return max_; }
  std::uint64_t percentile(double p) const noexcept;

 private:
  std::vector<std::pair<std::uint32_t, std::uint64_t>> counts_;  // ascending bucket index
  std::uint64_t total_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

template <class Cell>
class timeline {
 public:
  static constexpr std::int64_t default_width_ns = 10'000'000;
  static constexpr std::size_t default_max_intervals = 240;

  explicit timeline(std::int64_t width_ns = default_width_ns,
                    std::size_t max_intervals = default_max_intervals)
      : width_(width_ns > 0 ? width_ns : 1), max_(max_intervals < 2 ? 2 : max_intervals) {}

  // The interval holding t (ns since the start; before it counts as 0), after coarsening
  // when t lies beyond the last interval that fits.
  Cell& at(std::int64_t t_ns) {
    if (t_ns < 0) t_ns = 0;
    while (static_cast<std::size_t>(t_ns / width_) >= max_) double_width();
    const auto i = static_cast<std::size_t>(t_ns / width_);
    if (i >= cells_.size()) cells_.resize(i + 1);
    return cells_[i];
  }

  // Doubles the width until it is at least width_ns (a power-of-two multiple of it).
  void coarsen_to(std::int64_t width_ns) {
    while (width_ < width_ns) double_width();
  }

  // Adds another timeline of the same first width, interval by interval, at the coarser width.
  void merge(timeline other) {
    coarsen_to(other.width_);
    other.coarsen_to(width_);
    if (other.cells_.size() > cells_.size()) cells_.resize(other.cells_.size());
    for (std::size_t i = 0; i < other.cells_.size(); ++i) cells_[i].merge(other.cells_[i]);
  }

  std::int64_t width_ns() const noexcept { return width_; }
  // cells()[i] covers [i * width_ns(), (i + 1) * width_ns()).
  const std::vector<Cell>& cells() const noexcept { return cells_; }

 private:
  void double_width() {
    std::vector<Cell> coarse((cells_.size() + 1) / 2);
    for (std::size_t i = 0; i < cells_.size(); ++i) coarse[i / 2].merge(cells_[i]);
    cells_ = std::move(coarse);
    width_ *= 2;
  }

  std::int64_t width_;
  std::size_t max_;
  std::vector<Cell> cells_;
};

// What a sink records over time: each message's latency in the interval it arrived in. The
// interval being filled is a full histogram (recording stays one array increment); it is
// folded into the timeline when a message arrives past its end, and by finish().
class latency_timeline {
 public:
  explicit latency_timeline(
      std::int64_t width_ns = timeline<interval_latency>::default_width_ns,
      std::size_t max_intervals = timeline<interval_latency>::default_max_intervals)
      : line_(width_ns, max_intervals) {}

  void record(std::int64_t t_ns, std::uint64_t latency_ns);
  // Folds in the interval being filled; the timeline is complete afterwards.
  const timeline<interval_latency>& finish();

 private:
  void fold();
  timeline<interval_latency> line_;
  latency_histogram current_;
  std::int64_t current_start_ = 0;
  std::int64_t current_end_ = 0;  // empty while start == end
};

}  // namespace sluice::actors
