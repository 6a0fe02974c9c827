#include "actors/loadtest/sequence_checker.hpp"

#include <algorithm>
#include <iterator>

namespace sluice::actors {

sequence_summary& sequence_summary::operator+=(const sequence_summary& o) noexcept {
  received += o.received;
  unique += o.unique;
  duplicated += o.duplicated;
  reordered += o.reordered;
  lost += o.lost;
  return *this;
}

sequence_verdict sequence_checker::observe(std::uint64_t stream, std::uint64_t sequence) {
  auto& s = streams_[stream];
  ++totals_.received;
  if (sequence == s.next) {
    ++s.next;
    ++totals_.unique;
    return sequence_verdict::in_order;
  }
  if (sequence > s.next) {
    s.gaps.emplace(s.next, sequence - 1);
    s.next = sequence + 1;
    ++totals_.unique;
    return sequence_verdict::gap;
  }
  // Below next: either it fills a gap (late) or it was seen already (duplicate).
  auto it = s.gaps.upper_bound(sequence);
  if (it == s.gaps.begin() || std::prev(it)->second < sequence) {
    ++totals_.duplicated;
    return sequence_verdict::duplicate;
  }
  --it;
  const std::uint64_t first = it->first;
  const std::uint64_t last = it->second;
  s.gaps.erase(it);
  if (first < sequence) s.gaps.emplace(first, sequence - 1);
  if (sequence < last) s.gaps.emplace(sequence + 1, last);
  ++totals_.unique;
  ++totals_.reordered;
  return sequence_verdict::late;
}

void sequence_checker::expect(std::uint64_t stream, std::uint64_t count) {
  auto& s = streams_[stream];
  s.expected = count;
  s.has_expected = true;
}

std::uint64_t sequence_checker::missing(std::uint64_t stream) const {
  const auto found = streams_.find(stream);
  if (found == streams_.end()) return 0;
  const auto& s = found->second;
  if (!s.has_expected) return 0;
  // Gaps below the expected count, plus the tail that never arrived.
  std::uint64_t n = 0;
  for (const auto& [first, last] : s.gaps) {
    if (first >= s.expected) break;
    n += std::min(last, s.expected - 1) - first + 1;
  }
  if (s.expected > s.next) n += s.expected - s.next;
  return n;
}

sequence_summary sequence_checker::summary() const {
  sequence_summary out = totals_;
  out.lost = 0;
  for (const auto& entry : streams_) out.lost += missing(entry.first);
  return out;
}

}  // namespace sluice::actors
