#include <catch2/catch.hpp>

#include "monitors/load_policy.hpp"
#include "monitors/load_sources.hpp"
#include "monitors/proc_stat.hpp"

using namespace sluice::monitors;

// Captured from a 2-core Debian 12 machine.
static const char* const stat_fixture =
    "cpu  12161 0 4543 233260 2804 0 258 604 0 0\n"
    "cpu0 7007 0 1796 117542 96 0 62 289 0 0\n"
    "cpu1 5154 0 2747 115718 2708 0 196 315 0 0\n"
    "intr 1577231 0 9 0 0\n"
    "ctxt 2771360\n";

TEST_CASE("proc stat parsing reads the aggregate cpu line, not a per-cpu one") {
  auto t = parse_proc_stat(stat_fixture);
  REQUIRE(t);
  CHECK(t->user == 12161);
  CHECK(t->system == 4543);
  CHECK(t->idle == 233260);
  CHECK(t->iowait == 2804);
  CHECK(t->steal == 604);
  CHECK(t->busy() == 12161 + 4543 + 258 + 604);
}

TEST_CASE("proc stat parsing accepts old kernels with fewer fields and rejects garbage") {
  auto t = parse_proc_stat("cpu  10 20 30 40\n");
  REQUIRE(t);
  CHECK(t->idle == 40);
  CHECK(t->steal == 0);
  CHECK_FALSE(parse_proc_stat("cpu  10 20\n"));
  CHECK_FALSE(parse_proc_stat("cpu  ten 20 30 40\n"));
  CHECK_FALSE(parse_proc_stat("cpu0 1 2 3 4\n"));
  CHECK_FALSE(parse_proc_stat(""));
}

TEST_CASE("load per cpu is the busy share of the jiffies between two readings") {
  cpu_load_meter m;
  CHECK_FALSE(m.step(*parse_proc_stat("cpu  100 0 100 800 0 0 0 0 0 0\n")));
  // +150 user, +50 system, +50 idle, +50 iowait: 200 busy of 300.
  auto l = m.step(*parse_proc_stat("cpu  250 0 150 850 50 0 0 0 0 0\n"));
  REQUIRE(l);
  CHECK(*l == Approx(2.0 / 3.0));
}

TEST_CASE("guest time is not counted twice because the kernel already includes it in user") {
  cpu_load_meter m;
  (void)m.step(*parse_proc_stat("cpu  100 0 0 100 0 0 0 0 0 0\n"));
  // +100 user of which 100 guest, +100 idle: half busy, not two thirds.
  auto l = m.step(*parse_proc_stat("cpu  200 0 0 200 0 0 0 0 100 0\n"));
  REQUIRE(l);
  CHECK(*l == Approx(0.5));
}

TEST_CASE("counters that wrap or reset give no load and become the new baseline") {
  cpu_load_meter m;
  (void)m.step(*parse_proc_stat("cpu  18446744073709551000 0 0 500 0 0 0 0 0 0\n"));
  CHECK_FALSE(m.step(*parse_proc_stat("cpu  100 0 0 100 0 0 0 0 0 0\n")));
  auto l = m.step(*parse_proc_stat("cpu  200 0 0 200 0 0 0 0 0 0\n"));
  REQUIRE(l);
  CHECK(*l == Approx(0.5));
}

TEST_CASE("an iowait counter that goes backwards counts as no progress, not a huge delta") {
  cpu_load_meter m;
  (void)m.step(*parse_proc_stat("cpu  100 0 0 100 50 0 0 0 0 0\n"));
  auto l = m.step(*parse_proc_stat("cpu  200 0 0 200 40 0 0 0 0 0\n"));
  REQUIRE(l);
  CHECK(*l == Approx(0.5));
}

TEST_CASE("no time between readings gives no load") {
  cpu_load_meter m;
  const auto t = *parse_proc_stat(stat_fixture);
  (void)m.step(t);
  CHECK_FALSE(m.step(t));
}

TEST_CASE("psi parsing reads some avg10 and the optional full line") {
  auto r = parse_psi(
      "some avg10=2.75 avg60=1.85 avg300=0.72 total=7596932\n"
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  REQUIRE(r);
  CHECK(r->some.avg10 == Approx(2.75));
  CHECK(r->some.avg300 == Approx(0.72));
  CHECK(r->some.total_us == 7596932ULL);
  REQUIRE(r->full);
  CHECK(r->full->avg10 == Approx(0.0));
  CHECK(psi_load(*r) == Approx(0.0275));
}

TEST_CASE("psi parsing accepts a kernel without the full line and rejects a broken file") {
  auto r = parse_psi("some avg10=85.00 avg60=50.00 avg300=10.00 total=1\n");
  REQUIRE(r);
  CHECK_FALSE(r->full);
  CHECK(psi_load(*r) == Approx(0.85));
  CHECK_FALSE(parse_psi("some avg10=abc avg60=1 avg300=1 total=1\n"));
  CHECK_FALSE(parse_psi("full avg10=1.00 avg60=1.00 avg300=1.00 total=1\n"));
  CHECK_FALSE(parse_psi(""));
}

TEST_CASE("loadavg parsing reads the one-minute average") {
  auto l = parse_loadavg("0.62 0.42 0.20 3/96 7294\n");
  REQUIRE(l);
  CHECK(*l == Approx(0.62));
  CHECK_FALSE(parse_loadavg("x 0.42\n"));
  CHECK_FALSE(parse_loadavg(""));
}

TEST_CASE("the seed policy maps load to batch 5/200, 10/100 and 20/50") {
  load_policy p;
  auto d = p.step(0.9);
  CHECK(d.changed);
  CHECK(d.level == load_level::high);
  CHECK(d.setting == rate_setting{5, 200});
  load_policy m;
  CHECK(m.step(0.6).setting == rate_setting{10, 100});
  load_policy l;
  CHECK(l.step(0.2).setting == rate_setting{20, 50});
  load_policy edge;
  CHECK(edge.step(0.8).level == load_level::medium);  // "> 0.8" as in the seed
}

TEST_CASE("load wobbling just under a threshold does not flap the batch size") {
  load_policy p;
  REQUIRE(p.step(0.85).level == load_level::high);
  for (double l : {0.78, 0.81, 0.76, 0.82, 0.79}) {
    auto d = p.step(l);
    CHECK(d.level == load_level::high);
    CHECK_FALSE(d.changed);
  }
  auto d = p.step(0.74);
  CHECK(d.changed);
  CHECK(d.level == load_level::medium);
}

TEST_CASE("falling load steps down through the band on each level") {
  load_policy p;
  (void)p.step(0.95);
  CHECK(p.step(0.46).level == load_level::medium);  // below high - band, above medium - band
  CHECK(p.step(0.52).level == load_level::medium);
  CHECK(p.step(0.44).level == load_level::low);
  CHECK(p.step(0.5).level == load_level::low);      // not above medium: stays low
  CHECK(p.step(0.51).level == load_level::medium);  // rising needs no band
}

TEST_CASE("a policy resumed at high keeps high for a load inside the band") {
  load_policy p{load_policy_config{}, load_level::high};
  auto d = p.step(0.78);
  CHECK(d.level == load_level::high);
  CHECK_FALSE(d.changed);
  load_policy fresh;
  CHECK(fresh.step(0.78).level == load_level::medium);
}

TEST_CASE("a sudden drop from high to idle goes straight to low") {
  load_policy p;
  (void)p.step(0.95);
  auto d = p.step(0.05);
  CHECK(d.level == load_level::low);
  CHECK(d.setting == rate_setting{20, 50});
}

TEST_CASE("load policy validation rejects inverted thresholds and a too-wide band") {
  load_policy_config c;
  CHECK_FALSE(validate(c));
  c.medium = 0.9;
  CHECK(validate(c));
  c = {};
  c.band = 0.6;
  CHECK(validate(c));
}
