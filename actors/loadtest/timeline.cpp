#include "actors/loadtest/timeline.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::actors {

void level_cell::add(double v) noexcept {
  max = samples == 0 ? v : std::max(max, v);
  sum += v;
  ++samples;
}

void level_cell::merge(const level_cell& o) noexcept {
  if (o.samples == 0) return;
  max = samples == 0 ? o.max : std::max(max, o.max);
  sum += o.sum;
  samples += o.samples;
}

void interval_latency::add(const latency_histogram& h) {
  if (h.count() == 0) return;
  interval_latency other;
  for (const auto& b : h.buckets()) {
    other.counts_.emplace_back(static_cast<std::uint32_t>(latency_histogram::index_of(b.low)),
                               b.count);
  }
  other.total_ = h.count();
  other.min_ = h.min();
  other.max_ = h.max();
  merge(other);
}

void interval_latency::merge(const interval_latency& o) {
  if (o.total_ == 0) return;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
  out.reserve(counts_.size() + o.counts_.size());
  auto a = counts_.begin();
  auto b = o.counts_.begin();
  while (a != counts_.end() || b != o.counts_.end()) {
    if (b == o.counts_.end() || (a != counts_.end() && a->first < b->first)) {
      out.push_back(*a++);
    } else if (a == counts_.end() || b->first < a->first) {
      out.push_back(*b++);
    } else {
      out.emplace_back(a->first, a->second + b->second);
      ++a;
      ++b;
    }
  }
  counts_ = std::move(out);
  total_ += o.total_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

std::uint64_t interval_latency::percentile(double p) const noexcept {
  if (total_ == 0) return 0;
  const double clamped = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(total_)));
  rank = std::clamp<std::uint64_t>(rank, 1, total_);
  std::uint64_t seen = 0;
  for (const auto& [index, count] : counts_) {
    seen += count;
    if (seen >= rank) return std::clamp(latency_histogram::highest_in(index), min_, max_);
  }
  return max_;
}

void latency_timeline::record(std::int64_t t_ns, std::uint64_t latency_ns) {
  if (t_ns < 0) t_ns = 0;
  if (t_ns < current_start_ || t_ns >= current_end_) {
    fold();
    // fold() may have doubled the width: the new interval is cut at the width as it is now.
    const std::int64_t w = line_.width_ns();
    current_start_ = t_ns - t_ns % w;
    current_end_ = current_start_ + w;
  }
  current_.record(latency_ns);
}

void latency_timeline::fold() {
  if (current_.count() == 0) return;
  line_.at(current_start_).add(current_);
  current_.reset();
}

const timeline<interval_latency>& latency_timeline::finish() {
  fold();
  current_end_ = current_start_;
  return line_;
}

}  // namespace sluice::actors
