#include "backpressure/backoff.hpp"

#include <catch2/catch.hpp>
#include <chrono>

#include "fakes.hpp"

using namespace std::chrono_literals;
using sluice::backpressure::backoff_ceiling;
using sluice::backpressure::backoff_config;
using sluice::backpressure::backoff_delay;
using sluice::backpressure::testing::fixed_random;

TEST_CASE("the backoff ceiling doubles from the base on every attempt until it reaches the cap") {
  const backoff_config cfg{100ms, 5s};
  CHECK(backoff_ceiling(cfg, 0) == 100ms);
  CHECK(backoff_ceiling(cfg, 1) == 200ms);
  CHECK(backoff_ceiling(cfg, 2) == 400ms);
  CHECK(backoff_ceiling(cfg, 5) == 3200ms);
  CHECK(backoff_ceiling(cfg, 6) == 5s);
  CHECK(backoff_ceiling(cfg, 49) == 5s);
}

TEST_CASE(
    "the backoff ceiling saturates at the cap for huge attempt numbers instead of overflowing") {
  const backoff_config cfg{1ns, std::chrono::nanoseconds{INT64_MAX}};
  CHECK(backoff_ceiling(cfg, 62) == std::chrono::nanoseconds{std::int64_t{1} << 62});
  CHECK(backoff_ceiling(cfg, 63) == std::chrono::nanoseconds{INT64_MAX});
  CHECK(backoff_ceiling(cfg, UINT32_MAX) == std::chrono::nanoseconds{INT64_MAX});
  CHECK(backoff_ceiling(backoff_config{0ns, 5s}, UINT32_MAX) == 0ns);
}

TEST_CASE("a base above the cap is clamped to the cap") {
  CHECK(backoff_ceiling(backoff_config{10s, 5s}, 0) == 5s);
}

TEST_CASE("full jitter draws from zero up to the ceiling inclusive") {
  const backoff_config cfg{100ms, 5s};
  fixed_random top(1.0);
  CHECK(backoff_delay(cfg, 0, top) == 100ms);
  CHECK(backoff_delay(cfg, 3, top) == 800ms);
  CHECK(backoff_delay(cfg, 10, top) == 5s);
  CHECK(top.maxima == std::vector<std::uint64_t>{100'000'000, 800'000'000, 5'000'000'000});

  fixed_random bottom(0.0);
  CHECK(backoff_delay(cfg, 7, bottom) == 0ns);

  fixed_random half(0.5);
  CHECK(backoff_delay(cfg, 1, half) == 100ms);
}

TEST_CASE("the default random source stays within the requested range") {
  auto& rng = sluice::backpressure::default_random();
  for (int i = 0; i < 10'000; ++i) REQUIRE(rng.uniform(7) <= 7);
  CHECK(rng.uniform(0) == 0);
}
