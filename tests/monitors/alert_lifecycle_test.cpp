#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "monitors/alert.hpp"
#include "monitors/overflow.hpp"

using namespace sluice::monitors;
using namespace std::chrono_literals;

namespace {

// Both rules of one inbox, fed through the overflow monitor with a fake clock: each sample is
// one 5 s tick after the previous. Every line is kept as "<type> <state>".
struct feed {
  overflow_monitor m;
  time_point now{};
  std::vector<std::string> lines;

  explicit feed(alert_thresholds t = {}) : m(t) {}
  // The lines this sample produced.
  std::vector<std::string> operator()(double u) {
    now += 5s;
    const auto size = static_cast<std::uint64_t>(u * 100 + 0.5);
    std::vector<std::string> out;
    for (const auto& e : m.step({{"w", size, 100, 0, 0}}, now).alerts)
      out.push_back(std::string(alert_type(e.transition.level)) + " " +
                    to_string(e.transition.state));
    lines.insert(lines.end(), out.begin(), out.end());
    return out;
  }
  alert_state state() const { return *m.state_of("w"); }
};

using lines = std::vector<std::string>;

alert_thresholds no_cooldown(std::uint32_t for_samples = 1) {
  alert_thresholds t;
  t.for_samples = for_samples;
  t.cooldown = 0s;
  return t;
}

}  // namespace

TEST_CASE("a quiet inbox never produces an alert line") {
  feed f;
  for (double u : {0.0, 0.5, 0.8, 0.79, 0.1}) CHECK(f(u).empty());
  CHECK(f.state() == alert_state::inactive);
}

TEST_CASE("utilization above 80 percent fires one warning and holds it without repeating") {
  feed f;
  CHECK(f(0.85) == lines{"inbox_high_utilization firing"});
  for (double u : {0.9, 0.85, 0.75, 0.99}) CHECK(f(u).empty());
  CHECK(f.lines.size() == 1);
}

TEST_CASE("with for=3 an alert writes a pending line, then fires after three samples") {
  feed f{no_cooldown(3)};
  CHECK(f(0.85) == lines{"inbox_high_utilization pending"});
  CHECK(f.state() == alert_state::pending);
  CHECK(f(0.85).empty());
  CHECK(f(0.85) == lines{"inbox_high_utilization firing"});
}

TEST_CASE("a pending alert that falls back below the threshold is resolved without firing") {
  feed f{no_cooldown(2)};
  CHECK(f(0.9) == lines{"inbox_high_utilization pending"});
  CHECK(f(0.5) == lines{"inbox_high_utilization resolved"});
  CHECK(f.state() == alert_state::inactive);
  CHECK(f(0.9) == lines{"inbox_high_utilization pending"});  // the run starts again
  CHECK(f(0.9) == lines{"inbox_high_utilization firing"});
}

TEST_CASE("a full inbox fires both alerts, each with a line of its own type") {
  feed f;
  CHECK(f(1.0) == lines{"inbox_high_utilization firing", "inbox_overflow firing"});
  CHECK(f.state() == alert_state::firing);
}

TEST_CASE(
    "escalation is the overflow alert firing, and de-escalation is the overflow alert resolving") {
  feed f;
  CHECK(f(0.85) == lines{"inbox_high_utilization firing"});
  CHECK(f(1.0) == lines{"inbox_overflow firing"});
  CHECK(f(1.0).empty());
  CHECK(f(0.95).empty());  // above critical_clear: the overflow alert still fires
  CHECK(f(0.85) == lines{"inbox_overflow resolved"});
  CHECK(f(0.5) == lines{"inbox_high_utilization resolved"});
}

TEST_CASE("an overflow alert is resolved under its own type, whichever way the inbox drains") {
  for (const double level : {0.0, 0.75}) {
    DYNAMIC_SECTION("draining to " << level) {
      feed f;
      f(0.85);
      f(1.0);
      f(level);
      // Every alert that fired has exactly one resolved line of its own type.
      for (const char* type : {"inbox_high_utilization", "inbox_overflow"}) {
        const auto fired =
            std::count(f.lines.begin(), f.lines.end(), std::string(type) + " firing");
        const auto resolved =
            std::count(f.lines.begin(), f.lines.end(), std::string(type) + " resolved");
        if (level < 0.7 || std::string(type) == "inbox_overflow") CHECK(resolved == fired);
      }
    }
  }
}

TEST_CASE(
    "a firing alert resolves only below the clear threshold, not just below the warning one") {
  feed f;
  f(0.85);
  CHECK(f(0.79).empty());  // inside the hysteresis band: still firing
  CHECK(f(0.71).empty());
  CHECK(f.state() == alert_state::firing);
  CHECK(f(0.69) == lines{"inbox_high_utilization resolved"});
  CHECK(f(0.1).empty());
  CHECK(f.state() == alert_state::inactive);
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
  REQUIRE(f(0.9) == lines{"inbox_high_utilization firing"});
  CHECK(f(0.5).empty());
  CHECK(f(0.75).empty());  // the run below clear is broken
  CHECK(f(0.5).empty());
  CHECK(f(0.5) == lines{"inbox_high_utilization resolved"});
}

TEST_CASE("a warning does not fire again within the cooldown after it resolved") {
  alert_thresholds th;
  th.cooldown = 12s;  // a bit over two 5 s ticks
  feed f{th};
  REQUIRE(f(0.85) == lines{"inbox_high_utilization firing"});
  REQUIRE(f(0.5) == lines{"inbox_high_utilization resolved"});  // t=10s
  CHECK(f(0.85) == lines{"inbox_high_utilization pending"});    // t=15s: cooling down
  CHECK(f(0.85).empty());                                       // t=20s: still cooling
  CHECK(f(0.85) == lines{"inbox_high_utilization firing"});     // t=25s: cooldown over
}

TEST_CASE("a full inbox fires the overflow alert even inside the warning's cooldown") {
  alert_thresholds th;
  th.cooldown = 60s;
  feed f{th};
  REQUIRE(f(0.85).size() == 1);
  REQUIRE(f(0.5).size() == 1);
  const auto l = f(1.0);
  CHECK(std::count(l.begin(), l.end(), "inbox_overflow firing") == 1);
}

TEST_CASE("an inbox removed while an alert is active gets that alert's resolved line") {
  feed f;
  f(1.0);
  const auto r = f.m.step({}, f.now + 5s);
  REQUIRE(r.alerts.size() == 2);
  for (const auto& e : r.alerts) {
    CHECK(e.removed);
    CHECK(e.transition.state == alert_state::resolved);
  }
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
