#include "backpressure/circuit_breaker.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sluice::backpressure::admission;
using sluice::backpressure::breaker_config;
using sluice::backpressure::breaker_state;
using sluice::backpressure::breaker_ticket;
using sluice::backpressure::circuit_breaker;
using sluice::backpressure::inspect;
using sluice::inbox::breaker_cell;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t t0 = 5'000'000 * ms;
constexpr auto lease = 10s;

breaker_config config() {
  breaker_config cfg;
  cfg.failure_threshold = 3;
  cfg.cooldown = 1000ms;
  cfg.max_cooldown = 4000ms;
  return cfg;
}

breaker_ticket admit_at(circuit_breaker& b, std::int64_t now) {
  return b.admit([now] { return now; }, lease);
}

// Fails `n` sends admitted while closed.
void fail_closed(circuit_breaker& b, int n, std::int64_t now) {
  for (int i = 0; i < n; ++i) {
    const auto t = admit_at(b, now);
    REQUIRE(t.verdict == admission::pass);
    b.on_failure(t, now);
  }
}

// Opens the breaker, waits out the cooldown and starts the probe.
breaker_ticket trip_and_probe(circuit_breaker& b, std::int64_t& now) {
  fail_closed(b, 3, now);
  REQUIRE(b.view().state == breaker_state::open);
  now = b.view().until_ns;
  const auto probe = admit_at(b, now);
  REQUIRE(probe.verdict == admission::probe);
  return probe;
}

}  // namespace

TEST_CASE("a zero-filled breaker cell is closed and admits sends") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  CHECK(b.view().state == breaker_state::closed);
  CHECK(admit_at(b, t0).verdict == admission::pass);
}

TEST_CASE("the breaker stays closed below the failure threshold") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  fail_closed(b, 2, t0);
  CHECK(b.view().state == breaker_state::closed);
  CHECK(b.view().consecutive_failures == 2);
  CHECK(b.view().trips == 0);
}

TEST_CASE("a success resets the failure streak so only consecutive failures trip") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  fail_closed(b, 2, t0);
  b.on_success(admit_at(b, t0));
  fail_closed(b, 2, t0);
  CHECK(b.view().state == breaker_state::closed);
  CHECK(b.view().consecutive_failures == 2);
}

TEST_CASE("closed opens after the threshold of consecutive exhausted sends, for one cooldown") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  fail_closed(b, 3, t0);
  const auto v = b.view();
  CHECK(v.state == breaker_state::open);
  CHECK(v.trips == 1);
  CHECK(v.until_ns == t0 + 1000 * ms);
  CHECK(v.cooldown_ms == 1000);
  CHECK(v.consecutive_failures == 0);
  CHECK(cell.open_until_ns.load() == t0 + 1000 * ms);
}

TEST_CASE("an open breaker rejects sends until its cooldown is over and counts them") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  fail_closed(b, 3, t0);
  const auto t = admit_at(b, t0 + 999 * ms);
  CHECK(t.verdict == admission::reject);
  CHECK(t.retry_at_ns == t0 + 1000 * ms);
  CHECK(admit_at(b, t0).verdict == admission::reject);
  CHECK(b.view().rejected_open == 2);
  CHECK(b.view().probes == 0);
}

TEST_CASE("after the cooldown the first sender becomes the probe and the breaker is half-open") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  std::int64_t now = t0;
  trip_and_probe(b, now);
  const auto v = b.view();
  CHECK(v.state == breaker_state::half_open);
  CHECK(v.probes == 1);
}

TEST_CASE("while the probe is out every other sender is rejected") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  std::int64_t now = t0;
  trip_and_probe(b, now);
  for (int i = 0; i < 5; ++i) CHECK(admit_at(b, now + i * ms).verdict == admission::reject);
  CHECK(b.view().probes == 1);
}

TEST_CASE("a successful probe closes the breaker and restores the first cooldown") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  std::int64_t now = t0;
  const auto probe = trip_and_probe(b, now);
  b.on_success(probe);
  CHECK(b.view().state == breaker_state::closed);
  CHECK(admit_at(b, now).verdict == admission::pass);
  fail_closed(b, 3, now);
  CHECK(b.view().until_ns == now + 1000 * ms);
  CHECK(b.view().trips == 2);
}

TEST_CASE("a failed probe reopens the breaker with the cooldown doubled, up to the cap") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  std::int64_t now = t0;
  auto probe = trip_and_probe(b, now);
  for (std::int64_t expected : {2000, 4000, 4000, 4000}) {
    b.on_failure(probe, now);
    const auto v = b.view();
    REQUIRE(v.state == breaker_state::open);
    CHECK(v.cooldown_ms == expected);
    CHECK(v.until_ns == now + expected * ms);
    CHECK(admit_at(b, now + (expected - 1) * ms).verdict == admission::reject);
    now = v.until_ns;
    probe = admit_at(b, now);
    REQUIRE(probe.verdict == admission::probe);
  }
  CHECK(b.view().trips == 5);
  CHECK(b.view().probes == 5);
}

TEST_CASE("an abandoned probe reopens the breaker at once without doubling the cooldown") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  std::int64_t now = t0;
  const auto probe = trip_and_probe(b, now);
  b.on_abandon(probe, now);
  CHECK(b.view().state == breaker_state::open);
  CHECK(b.view().cooldown_ms == 1000);
  CHECK(admit_at(b, now).verdict == admission::probe);
  CHECK(b.view().probes == 2);
}

TEST_CASE("a probe that outlives its lease is replaced by the next sender") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  std::int64_t now = t0;
  const auto dead_probe = trip_and_probe(b, now);
  const std::int64_t lease_end = now + std::chrono::nanoseconds{lease}.count();
  CHECK(admit_at(b, lease_end - ms).verdict == admission::reject);
  const auto second = admit_at(b, lease_end);
  CHECK(second.verdict == admission::probe);
  // The late verdict of the replaced probe changes nothing.
  b.on_success(dead_probe);
  CHECK(b.view().state == breaker_state::half_open);
  b.on_success(second);
  CHECK(b.view().state == breaker_state::closed);
}

TEST_CASE("failures of sends admitted before the breaker moved on do not count") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  const auto stale = admit_at(b, t0);
  std::int64_t now = t0;
  b.on_success(trip_and_probe(b, now));
  REQUIRE(b.view().state == breaker_state::closed);
  b.on_failure(stale, now);
  b.on_failure(stale, now);
  b.on_failure(stale, now);
  CHECK(b.view().state == breaker_state::closed);
  CHECK(b.view().consecutive_failures == 0);
}

TEST_CASE("failures reported after the breaker opened do not trip it again") {
  breaker_cell cell{};
  circuit_breaker b(cell, config());
  std::vector<breaker_ticket> in_flight;
  for (int i = 0; i < 8; ++i) in_flight.push_back(admit_at(b, t0));
  for (const auto& t : in_flight) b.on_failure(t, t0);
  CHECK(b.view().state == breaker_state::open);
  CHECK(b.view().trips == 1);
}

TEST_CASE("a damaged state word heals through a probe once its deadline has passed") {
  breaker_cell cell{};
  cell.state.store(3);  // not a state this code ever writes
  circuit_breaker b(cell, config());
  const auto t = admit_at(b, t0);
  CHECK(t.verdict == admission::probe);
  b.on_success(t);
  CHECK(b.view().state == breaker_state::closed);
}

TEST_CASE("half-open admits exactly one probe when several threads race for it") {
  for (int round = 0; round < 50; ++round) {
    breaker_cell cell{};
    circuit_breaker b(cell, config());
    fail_closed(b, 3, t0);
    const std::int64_t after = b.view().until_ns;
    std::atomic<int> probes{0};
    std::atomic<int> rejects{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) {
        }
        for (int i = 0; i < 25; ++i) {
          circuit_breaker mine(cell, config());
          const auto v = mine.admit([after] { return after; }, lease).verdict;
          (v == admission::probe ? probes : rejects).fetch_add(1);
        }
      });
    }
    go.store(true);
    for (auto& t : threads) t.join();
    REQUIRE(probes.load() == 1);
    REQUIRE(rejects.load() == 99);
    REQUIRE(inspect(cell).probes == 1);
  }
}
