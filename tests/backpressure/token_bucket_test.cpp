#include "backpressure/token_bucket.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

using sluice::backpressure::rate_limit;
using sluice::backpressure::take;
using sluice::backpressure::token_bucket_cell;

namespace {
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t t0 = 1'000'000 * ms;  // an arbitrary monotonic instant
}  // namespace

TEST_CASE("a fresh bucket allows a full burst at once and then refuses") {
  token_bucket_cell cell{};
  const rate_limit limit{10.0, 3};  // one token every 100 ms, bucket of 3
  for (std::uint32_t left = 2;; --left) {
    const auto r = take(cell, t0, limit);
    REQUIRE(r.allowed);
    CHECK(r.limit == 3);
    CHECK(r.remaining == left);
    if (left == 0) break;
  }
  const auto refused = take(cell, t0, limit);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
  CHECK(refused.retry_after_ms == 100);
  CHECK(refused.retry_after_ns == 100 * ms);
  CHECK(cell.allowed.load() == 3);
  CHECK(cell.limited.load() == 1);
}

TEST_CASE("an empty bucket refills one token per interval and retry_after counts down") {
  token_bucket_cell cell{};
  const rate_limit limit{10.0, 2};
  REQUIRE(take(cell, t0, limit).allowed);
  REQUIRE(take(cell, t0, limit).allowed);
  const auto early = take(cell, t0 + 40 * ms, limit);
  CHECK_FALSE(early.allowed);
  CHECK(early.retry_after_ms == 60);
  const auto refilled = take(cell, t0 + 100 * ms, limit);
  CHECK(refilled.allowed);
  CHECK(refilled.remaining == 0);
  CHECK_FALSE(take(cell, t0 + 100 * ms, limit).allowed);
}

TEST_CASE("an idle bucket refills only up to its burst") {
  token_bucket_cell cell{};
  const rate_limit limit{100.0, 4};
  REQUIRE(take(cell, t0, limit).allowed);
  const std::int64_t later = t0 + 3'600'000 * ms;  // an hour idle
  const auto r = take(cell, later, limit);
  CHECK(r.allowed);
  CHECK(r.remaining == 3);
  for (int i = 0; i < 3; ++i) REQUIRE(take(cell, later, limit).allowed);
  CHECK_FALSE(take(cell, later, limit).allowed);
}

TEST_CASE("retry_after is rounded up to whole milliseconds") {
  token_bucket_cell cell{};
  const rate_limit limit{3.0, 1};  // 333.333 ms interval
  REQUIRE(take(cell, t0, limit).allowed);
  const auto r = take(cell, t0, limit);
  CHECK_FALSE(r.allowed);
  CHECK(r.retry_after_ns == 333'333'333);
  CHECK(r.retry_after_ms == 334);
}

TEST_CASE("a zero rate means unlimited and leaves the cell untouched") {
  token_bucket_cell cell{};
  const auto r = take(cell, t0, rate_limit{0.0, 5});
  CHECK(r.allowed);
  CHECK(r.remaining == 5);
  CHECK(cell.tat_ns.load() == 0);
}

TEST_CASE("a bucket state far in the future, as after a reboot, starts again from a full bucket") {
  token_bucket_cell cell{};
  cell.tat_ns.store(t0 + 86'400'000 * ms);  // a day ahead of now
  const auto r = take(cell, t0, rate_limit{10.0, 2});
  CHECK(r.allowed);
  CHECK(r.remaining == 1);
}

TEST_CASE("threads racing on one bucket are granted exactly the burst, never more") {
  token_bucket_cell cell{};
  const rate_limit limit{1.0, 100};
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (take(cell, t0, limit).allowed) granted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(granted.load() == 100);
  CHECK(cell.allowed.load() == 100);
  CHECK(cell.limited.load() == 300);
}
