#include <catch2/catch.hpp>

#include <vector>

#include "monitors/alert.hpp"

using namespace sluice::monitors;
using namespace std::chrono_literals;

namespace {

// A fake clock: each sample is one 5 s tick after the previous.
struct feed {
  alert_lifecycle a;
  time_point now{};
  std::vector<alert_transition> lines;

  explicit feed(alert_thresholds t = {}) : a(t) {}
  std::optional<alert_transition> operator()(double u) {
    now += 5s;
    auto t = a.step(u, now);
    if (t) lines.push_back(*t);
    return t;
  }
};

alert_thresholds no_cooldown(std::uint32_t for_samples = 1) {
  alert_thresholds t;
  t.for_samples = for_samples;
  t.cooldown = 0s;
  return t;
}

}  // namespace

TEST_CASE("a quiet inbox never produces an alert line") {
  feed f;
  for (double u : {0.0, 0.5, 0.8, 0.79, 0.1}) CHECK_FALSE(f(u));
  CHECK(f.a.state() == alert_state::inactive);
}

TEST_CASE("utilization above 80 percent fires one warning and holds it without repeating") {
  feed f;
  auto t = f(0.85);
  REQUIRE(t);
  CHECK(t->state == alert_state::firing);
  CHECK(t->level == severity::warning);
  CHECK_FALSE(t->previous);
  for (double u : {0.9, 0.85, 0.75, 0.99}) CHECK_FALSE(f(u));
  CHECK(f.lines.size() == 1);
}

TEST_CASE("with for=3 an alert waits in pending for three samples before firing") {
  feed f{no_cooldown(3)};
  CHECK_FALSE(f(0.85));
  CHECK(f.a.state() == alert_state::pending);
  CHECK_FALSE(f(0.85));
  auto t = f(0.85);
  REQUIRE(t);
  CHECK(t->state == alert_state::firing);
}

TEST_CASE("a pending alert that falls back below the threshold goes inactive silently") {
  feed f{no_cooldown(2)};
  CHECK_FALSE(f(0.9));
  CHECK(f.a.state() == alert_state::pending);
  CHECK_FALSE(f(0.5));
  CHECK(f.a.state() == alert_state::inactive);
  CHECK_FALSE(f(0.9));  // the run starts again from one
  CHECK(f(0.9));
}

TEST_CASE("a full inbox fires critical straight from inactive") {
  feed f;
  auto t = f(1.0);
  REQUIRE(t);
  CHECK(t->level == severity::critical);
  CHECK(t->state == alert_state::firing);
}

TEST_CASE("a firing warning escalates to critical once and names the previous severity") {
  feed f;
  REQUIRE(f(0.85));
  auto t = f(1.0);
  REQUIRE(t);
  CHECK(t->state == alert_state::firing);
  CHECK(t->level == severity::critical);
  REQUIRE(t->previous);
  CHECK(*t->previous == severity::warning);
  CHECK_FALSE(f(1.0));
  CHECK_FALSE(f(0.95));  // above critical_clear: stays critical
  CHECK(f.a.level() == severity::critical);
}

TEST_CASE("a critical alert steps back to warning only below the critical clear threshold") {
  feed f;
  REQUIRE(f(1.0));
  CHECK_FALSE(f(0.95));
  auto t = f(0.85);
  REQUIRE(t);
  CHECK(t->level == severity::warning);
  REQUIRE(t->previous);
  CHECK(*t->previous == severity::critical);
}

TEST_CASE("a firing alert resolves only below the clear threshold, not just below the warning one") {
  feed f;
  REQUIRE(f(0.85));
  CHECK_FALSE(f(0.79));  // inside the hysteresis band: still firing
  CHECK_FALSE(f(0.71));
  CHECK(f.a.state() == alert_state::firing);
  auto t = f(0.69);
  REQUIRE(t);
  CHECK(t->state == alert_state::resolved);
  CHECK(t->level == severity::warning);
  CHECK_FALSE(f(0.1));
  CHECK(f.a.state() == alert_state::inactive);
}

TEST_CASE("utilization wobbling around the warning threshold fires once, not on every crossing") {
  feed f{no_cooldown()};
  for (int i = 0; i < 10; ++i) {
    f(0.82);
    f(0.78);
  }
  CHECK(f.lines.size() == 1);
}

TEST_CASE("with for=2 resolving also needs two samples below clear in a row") {
  feed f{no_cooldown(2)};
  f(0.9);
  REQUIRE(f(0.9));
  CHECK_FALSE(f(0.5));
  CHECK_FALSE(f(0.75));  // the run below clear is broken
  CHECK_FALSE(f(0.5));
  auto t = f(0.5);
  REQUIRE(t);
  CHECK(t->state == alert_state::resolved);
}

TEST_CASE("a critical alert resolves with critical severity when the inbox drains at once") {
  feed f;
  REQUIRE(f(1.0));
  auto t = f(0.0);
  REQUIRE(t);
  CHECK(t->state == alert_state::resolved);
  CHECK(t->level == severity::critical);
}

TEST_CASE("a warning does not fire again within the cooldown after it resolved") {
  alert_thresholds th;
  th.cooldown = 12s;  // a bit over two 5 s ticks
  feed f{th};
  REQUIRE(f(0.85));
  REQUIRE(f(0.5));  // resolved at t=10s
  CHECK_FALSE(f(0.85));  // t=15s: cooling down
  CHECK(f.a.state() == alert_state::pending);
  CHECK_FALSE(f(0.85));  // t=20s: still cooling
  auto t = f(0.85);      // t=25s: cooldown over
  REQUIRE(t);
  CHECK(t->state == alert_state::firing);
}

TEST_CASE("a full inbox fires critical even inside the cooldown") {
  alert_thresholds th;
  th.cooldown = 60s;
  feed f{th};
  REQUIRE(f(0.85));
  REQUIRE(f(0.5));
  auto t = f(1.0);
  REQUIRE(t);
  CHECK(t->level == severity::critical);
}

TEST_CASE("threshold validation names the value to fix") {
  alert_thresholds t;
  CHECK_FALSE(validate(t));
  t.clear = 0.9;
  REQUIRE(validate(t));
  CHECK(validate(t)->find("clear") != std::string::npos);
  t = {};
  t.for_samples = 0;
  CHECK(validate(t));
  t = {};
  t.critical_clear = 1.0;
  CHECK(validate(t));
}
