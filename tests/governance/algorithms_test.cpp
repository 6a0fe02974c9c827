// Each limiter against a reference model written independently of it, driven by random
// requests and a fake clock; and the promises of governance/algorithms.hpp checked on the
// grants themselves.
#include "governance/algorithms.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <random>

using namespace sluice::governance;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t sec = 1'000'000'000;

struct request {
  std::int64_t at;
  std::uint64_t cost;
};

// Random arrivals: bursts and idle gaps, costs mostly 1 and sometimes more.
std::vector<request> random_requests(std::mt19937_64& rng, std::int64_t start, std::size_t n,
                                     std::uint64_t max_cost) {
  std::vector<request> out;
  std::int64_t t = start;
  for (std::size_t i = 0; i < n; ++i) {
    const auto pick = rng() % 10;
    t += pick < 6   ? static_cast<std::int64_t>(rng() % (20 * ms))
         : pick < 9 ? 0
                    : static_cast<std::int64_t>(rng() % (3 * sec));
    const std::uint64_t cost = rng() % 4 == 0 ? 1 + rng() % max_cost : 1;
    out.push_back({t, cost});
  }
  return out;
}

// A token bucket as credit: ns of refill it holds, capped at burst units' worth.
struct bucket_model {
  std::int64_t unit;
  std::int64_t cap;
  std::int64_t credit;
  std::int64_t last;
  bool take(std::int64_t now, std::uint64_t cost) {
    credit = std::min(cap, credit + (now - last));
    last = now;
    const std::int64_t need = static_cast<std::int64_t>(cost) * unit;
    if (credit < need) return false;
    credit -= need;
    return true;
  }
};

// Fixed windows: a counter per aligned window.
struct fixed_model {
  std::int64_t period;
  std::uint64_t count;
  std::int64_t window = -1;
  std::uint64_t used = 0;
  bool take(std::int64_t now, std::uint64_t cost) {
    if (now / period != window) {
      window = now / period;
      used = 0;
    }
    if (used + cost > count) return false;
    used += cost;
    return true;
  }
};

// Sliding window counter: previous window weighted by the part of it still inside.
struct sliding_model {
  std::int64_t period;
  std::uint64_t count;
  std::int64_t window = -1;
  std::uint64_t prev = 0;
  std::uint64_t cur = 0;
  bool take(std::int64_t now, std::uint64_t cost) {
    const std::int64_t w = now / period;
    if (w == window + 1) {
      prev = cur;
      cur = 0;
    } else if (w != window) {
      prev = 0;
      cur = 0;
    }
    window = w;
    const long double elapsed = static_cast<long double>(now % period);
    const long double est = static_cast<long double>(prev) *
                                (static_cast<long double>(period) - elapsed) /
                                static_cast<long double>(period) +
                            static_cast<long double>(cur);
    if (est + static_cast<long double>(cost) > static_cast<long double>(count) + 1e-9L)
      return false;
    cur += cost;
    return true;
  }
};

}  // namespace

TEST_CASE(
    "token bucket (GCRA) grants exactly what a credit bucket with the same rate and burst grants") {
  std::mt19937_64 rng(GENERATE(1, 2, 3, 4, 5));
  const limiter_spec spec{algorithm::token_bucket, 1 + rng() % 20,
                          (1 + static_cast<std::int64_t>(rng() % 5)) * sec, 1 + rng() % 10};
  const std::int64_t unit = (spec.period_ns + static_cast<std::int64_t>(spec.count) - 1) /
                            static_cast<std::int64_t>(spec.count);
  const std::int64_t start = 1000 * sec;
  bucket_model model{unit, static_cast<std::int64_t>(spec.burst) * unit,
                     static_cast<std::int64_t>(spec.burst) * unit, start};
  std::atomic<std::uint64_t> word{0};
  for (const auto& r : random_requests(rng, start, 3000, spec.burst + 2)) {
    const decision d = take(word, spec, r.at, r.cost);
    INFO("at " << r.at << " cost " << r.cost);
    REQUIRE(d.allowed == model.take(r.at, r.cost));
    if (r.cost > spec.burst) REQUIRE(d.never);
  }
}

TEST_CASE("fixed window grants exactly what a per-window counter grants") {
  std::mt19937_64 rng(GENERATE(11, 12, 13, 14));
  const limiter_spec spec{algorithm::fixed_window, 1 + rng() % 30,
                          (1 + static_cast<std::int64_t>(rng() % 3)) * sec, 1};
  fixed_model model{spec.period_ns, spec.count};
  std::atomic<std::uint64_t> word{0};
  for (const auto& r : random_requests(rng, 1000 * sec, 3000, 5)) {
    INFO("at " << r.at << " cost " << r.cost);
    REQUIRE(take(word, spec, r.at, r.cost).allowed == model.take(r.at, r.cost));
  }
}

TEST_CASE("sliding window grants exactly what the weighted two-window estimate allows") {
  std::mt19937_64 rng(GENERATE(21, 22, 23, 24));
  const limiter_spec spec{algorithm::sliding_window, 1 + rng() % 30,
                          (1 + static_cast<std::int64_t>(rng() % 3)) * sec, 1};
  sliding_model model{spec.period_ns, spec.count};
  std::atomic<std::uint64_t> word{0};
  for (const auto& r : random_requests(rng, 1000 * sec, 3000, 5)) {
    INFO("at " << r.at << " cost " << r.cost);
    REQUIRE(take(word, spec, r.at, r.cost).allowed == model.take(r.at, r.cost));
  }
}

TEST_CASE("leaky bucket starts grants at least one unit's time apart and queues at most burst") {
  std::mt19937_64 rng(GENERATE(31, 32, 33));
  const limiter_spec spec{algorithm::leaky_bucket, 10, sec, 1 + rng() % 5};
  const std::int64_t unit = sec / 10;
  std::atomic<std::uint64_t> word{0};
  std::int64_t last_start = -1;
  for (const auto& r : random_requests(rng, 1000 * sec, 2000, 1)) {
    const decision d = take(word, spec, r.at, 1);
    if (!d.allowed) continue;
    const std::int64_t start = r.at + d.delay_ns;
    if (last_start >= 0) REQUIRE(start - last_start >= unit);
    REQUIRE(d.delay_ns <= static_cast<std::int64_t>(spec.burst) * unit);
    last_start = start;
  }
}

TEST_CASE("no limiter grants more than its promise in any interval, whatever the arrivals") {
  const auto algo =
      GENERATE(algorithm::token_bucket, algorithm::fixed_window, algorithm::sliding_window);
  std::mt19937_64 rng(41 + static_cast<int>(algo));
  const limiter_spec spec{algo, 10, sec, 4};
  std::atomic<std::uint64_t> word{0};
  std::vector<request> grants;
  for (const auto& r : random_requests(rng, 1000 * sec, 5000, 3))
    if (take(word, spec, r.at, r.cost).allowed) grants.push_back(r);
  // Any interval of one period: a bucket grants at most burst + count; a fixed window at most
  // 2 x count across a boundary; the sliding estimate at most 2 x count as well, and exactly
  // count per aligned window.
  const std::uint64_t bound =
      algo == algorithm::token_bucket ? spec.burst + spec.count : 2 * spec.count;
  std::deque<request> in;
  std::uint64_t sum = 0;
  for (const auto& g : grants) {
    in.push_back(g);
    sum += g.cost;
    while (g.at - in.front().at >= spec.period_ns) {
      sum -= in.front().cost;
      in.pop_front();
    }
    REQUIRE(sum <= bound);
  }
  if (algo != algorithm::token_bucket) {
    std::map<std::int64_t, std::uint64_t> per_window;
    for (const auto& g : grants) per_window[g.at / spec.period_ns] += g.cost;
    for (const auto& [w, n] : per_window) REQUIRE(n <= spec.count);
  }
}

TEST_CASE("give_back returns what a refused request's earlier take charged") {
  const auto algo =
      GENERATE(algorithm::token_bucket, algorithm::fixed_window, algorithm::sliding_window);
  const limiter_spec spec{algo, 3, sec, 3};
  std::atomic<std::uint64_t> word{0};
  const std::int64_t now = 500 * sec;
  const decision a = take(word, spec, now, 2);
  REQUIRE(a.allowed);
  CHECK_FALSE(take(word, spec, now, 2).allowed);
  give_back(word, spec, a, 2);
  CHECK(take(word, spec, now, 3).allowed);
}

TEST_CASE("a damaged word decays into a valid limiter instead of refusing forever") {
  const limiter_spec spec{algorithm::token_bucket, 5, sec, 5};
  std::atomic<std::uint64_t> word{~0ull};
  CHECK(take(word, spec, 100 * sec, 1).allowed);
}
