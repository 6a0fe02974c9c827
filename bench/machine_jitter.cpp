#include "bench/machine_jitter.hpp"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace sluice::bench {
namespace {

std::int64_t monotonic_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

struct spin_result {
  std::uint64_t over_5us = 0;
  std::int64_t lost_ns = 0;
  std::int64_t max_gap_ns = 0;
};

spin_result spin(std::int64_t duration_ns) {
  spin_result r;
  const std::int64_t start = monotonic_ns();
  std::int64_t last = start;
  for (;;) {
    const std::int64_t t = monotonic_ns();
    const std::int64_t gap = t - last;
    if (gap > 1'000) {
      r.lost_ns += gap;
      r.max_gap_ns = std::max(r.max_gap_ns, gap);
      if (gap > 5'000) ++r.over_5us;
    }
    last = t;
    if (t - start >= duration_ns) return r;
  }
}

}  // namespace

machine_jitter measure_machine_jitter(std::chrono::milliseconds duration, unsigned threads) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
  threads = std::max(1u, threads);
  std::vector<spin_result> results(threads);
  std::vector<std::thread> spinners;
  for (unsigned i = 0; i < threads; ++i) spinners.emplace_back([&, i] { results[i] = spin(ns); });
  for (auto& t : spinners) t.join();
  machine_jitter j;
  const double seconds = static_cast<double>(ns) / 1e9;
  const double windows = static_cast<double>(ns) / 50'000.0;
  for (const auto& r : results) {
    j.gaps_over_5us_per_s += static_cast<double>(r.over_5us) / seconds / threads;
    j.windows_hit_pct += 100.0 * static_cast<double>(r.over_5us) / windows / threads;
    j.lost_pct += 100.0 * static_cast<double>(r.lost_ns) / static_cast<double>(ns) / threads;
    j.max_gap_us = std::max(j.max_gap_us, static_cast<double>(r.max_gap_ns) / 1000.0);
  }
  return j;
}

}  // namespace sluice::bench
