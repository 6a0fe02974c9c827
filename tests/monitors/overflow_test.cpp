#include "monitors/overflow.hpp"

#include <catch2/catch.hpp>

using namespace sluice::monitors;
using namespace std::chrono_literals;

namespace {

inbox_sample sample(std::uint64_t size, std::uint64_t enq, std::uint64_t deq,
                    std::uint32_t cap = 1000, const char* agent = "w1") {
  return inbox_sample{agent, size, cap, enq, deq};
}

}  // namespace

TEST_CASE("the first sample gives utilization but no rate or projection") {
  overflow_tracker t;
  auto v = t.step(sample(250, 300, 50), time_point{} + 1s);
  CHECK(v.utilization == Approx(0.25));
  CHECK_FALSE(v.fill_rate);
  CHECK_FALSE(v.seconds_to_full);
  CHECK_FALSE(v.drain_eta);
}

TEST_CASE("a filling inbox projects the seconds until it is full") {
  overflow_tracker t;
  t.step(sample(500, 500, 0), time_point{} + 10s);
  // +100 in, +50 out over 5 s: 10 msg/s net; 450 slots left -> 45 s.
  auto v = t.step(sample(550, 600, 50), time_point{} + 15s);
  REQUIRE(v.fill_rate);
  CHECK(*v.fill_rate == Approx(10.0));
  REQUIRE(v.seconds_to_full);
  CHECK(*v.seconds_to_full == Approx(45.0));
  CHECK_FALSE(v.drain_eta);
}

TEST_CASE("a draining inbox projects when it will be empty") {
  overflow_tracker t;
  t.step(sample(800, 1000, 200), time_point{} + 0s);
  // +0 in, +200 out over 2 s: -100 msg/s; 600 left -> 6 s.
  auto v = t.step(sample(600, 1000, 400), time_point{} + 2s);
  REQUIRE(v.fill_rate);
  CHECK(*v.fill_rate == Approx(-100.0));
  REQUIRE(v.drain_eta);
  CHECK(*v.drain_eta == Approx(6.0));
  CHECK_FALSE(v.seconds_to_full);
}

TEST_CASE("a full inbox that keeps filling projects zero seconds to full") {
  overflow_tracker t;
  t.step(sample(990, 990, 0), time_point{} + 0s);
  auto v = t.step(sample(1000, 1010, 0), time_point{} + 1s);
  REQUIRE(v.seconds_to_full);
  CHECK(*v.seconds_to_full == Approx(0.0));
}

TEST_CASE("counters that go backwards (inbox re-created) give no rate for that step") {
  overflow_tracker t;
  t.step(sample(10, 5000, 4990), time_point{} + 0s);
  auto v = t.step(sample(3, 3, 0), time_point{} + 1s);
  CHECK_FALSE(v.fill_rate);
  v = t.step(sample(5, 5, 0), time_point{} + 2s);
  REQUIRE(v.fill_rate);
  CHECK(*v.fill_rate == Approx(2.0));
}

TEST_CASE("the overflow monitor emits warning, critical and resolved lines once each") {
  overflow_monitor m;
  time_point now{};
  auto tick = [&](std::uint64_t size, std::uint64_t enq, std::uint64_t deq) {
    now += 5s;
    return m.step({sample(size, enq, deq), sample(0, 0, 0, 1000, "idle")}, now);
  };
  auto r = tick(850, 850, 0);
  REQUIRE(r.inboxes.size() == 2);
  REQUIRE(r.alerts.size() == 1);
  CHECK(r.alerts[0].view.agent == "w1");
  CHECK(r.alerts[0].transition.level == severity::warning);
  CHECK(alert_type(r.alerts[0].transition.level) == std::string("inbox_high_utilization"));
  CHECK(describe(r.alerts[0]).find("85%") != std::string::npos);

  CHECK(tick(900, 900, 0).alerts.empty());
  r = tick(1000, 1000, 0);
  REQUIRE(r.alerts.size() == 1);
  CHECK(r.alerts[0].transition.level == severity::critical);
  CHECK(alert_type(r.alerts[0].transition.level) == std::string("inbox_overflow"));
  CHECK(tick(1000, 1000, 0).alerts.empty());

  // Draining at once: both alerts resolve, each under its own type.
  r = tick(100, 1000, 900);
  REQUIRE(r.alerts.size() == 2);
  CHECK(r.alerts[0].transition.state == alert_state::resolved);
  CHECK(r.alerts[0].transition.level == severity::warning);
  CHECK(r.alerts[1].transition.state == alert_state::resolved);
  CHECK(r.alerts[1].transition.level == severity::critical);
  REQUIRE(r.alerts[0].view.drain_eta);
  CHECK(*r.alerts[0].view.drain_eta == Approx(100.0 / (900.0 / 5.0)));
  CHECK(tick(0, 1000, 1000).alerts.empty());
  CHECK(m.state_of("w1") == alert_state::inactive);
}

TEST_CASE("an inbox removed while its alert fires gets a resolved line and is forgotten") {
  overflow_monitor m;
  REQUIRE(m.step({sample(850, 850, 0)}, time_point{} + 1s).alerts.size() == 1);
  auto r = m.step({}, time_point{} + 2s);
  REQUIRE(r.alerts.size() == 1);
  CHECK(r.alerts[0].removed);
  CHECK(r.alerts[0].transition.state == alert_state::resolved);
  CHECK(describe(r.alerts[0]).find("removed") != std::string::npos);
  CHECK_FALSE(m.state_of("w1"));
}

TEST_CASE("a warning message names the fill rate and the time until full") {
  overflow_monitor m;
  m.step({sample(700, 700, 0)}, time_point{} + 0s);
  auto r = m.step({sample(850, 850, 0)}, time_point{} + 5s);
  REQUIRE(r.alerts.size() == 1);
  const auto msg = describe(r.alerts[0]);
  CHECK(msg.find("30.0 msg/s") != std::string::npos);
  CHECK(msg.find("full in 5 s") != std::string::npos);
}
