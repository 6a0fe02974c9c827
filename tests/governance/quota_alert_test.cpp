// Quota alerts at 80, 95 and 100 % through the overflow monitor's alert lifecycle.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "governance/acquire.hpp"
#include "governance/clock.hpp"
#include "governance/policy_file.hpp"
#include "governance/store.hpp"
#include "monitors/overflow_step.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::governance;

namespace {

std::string alert_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a quota crossing 80, 95 and 100 % fires each alert once, through pending") {
  sluice::test::temp_dir dir;
  auto parsed = parse_policy(
      "[[limit]]\nname = \"llm\"\nquota = \"100/d\"\nquota_mode = \"soft\"\n", "p.toml");
  REQUIRE(parsed.value);
  auto s = store::open_or_create(dir.path());
  REQUIRE(s);
  REQUIRE(s.value().apply(*parsed.value, "p.toml"));
  sluice::monitors::monitor_settings settings;
  settings.bus_dir = dir.path();
  sluice::monitors::overflow_step step(settings);
  auto t = std::chrono::steady_clock::now();
  auto spend = [&](std::uint64_t cost) {
    acquire_request q{"llm", cost, "agent", 0};
    REQUIRE(
        try_acquire(s.value().raw(), *s.value().current().value(), q, monotonic_ns(), realtime_ns())
            .status == acquire_status::granted);
  };
  auto tick = [&] {
    t += std::chrono::seconds(1);
    (void)step.step(t);
  };
  spend(85);
  tick();
  tick();
  auto text = alert_lines(dir.path() / "alerts.jsonl");
  CHECK(text.find("quota_80_percent") != std::string::npos);
  CHECK(text.find("\"firing\"") != std::string::npos);
  CHECK(text.find("quota_95_percent") == std::string::npos);
  spend(15);  // soft: allowed past 100 %
  tick();
  tick();
  text = alert_lines(dir.path() / "alerts.jsonl");
  CHECK(text.find("quota_95_percent") != std::string::npos);
  CHECK(text.find("quota_exhausted") != std::string::npos);
}

TEST_CASE("an agent past 80 % and 100 % of its budget gets a cost alert, others do not") {
  sluice::test::temp_dir dir;
  auto parsed =
      parse_policy("[[limit]]\nname = \"llm\"\nquota = \"1000/d\"\nagent_budget = 100\n", "p.toml");
  REQUIRE(parsed.value);
  auto s = store::open_or_create(dir.path());
  REQUIRE(s);
  REQUIRE(s.value().apply(*parsed.value, "p.toml"));
  sluice::monitors::monitor_settings settings;
  settings.bus_dir = dir.path();
  sluice::monitors::overflow_step step(settings);
  auto t = std::chrono::steady_clock::now();
  record_cost(s.value().raw(), "big-spender", "llm", 120, 0, realtime_ns());
  record_cost(s.value().raw(), "frugal", "llm", 10, 0, realtime_ns());
  for (int i = 0; i < 2; ++i) {
    t += std::chrono::seconds(1);
    (void)step.step(t);
  }
  const auto text = alert_lines(dir.path() / "alerts.jsonl");
  CHECK(text.find("cost_budget_80_percent") != std::string::npos);
  CHECK(text.find("cost_budget_exceeded") != std::string::npos);
  CHECK(text.find("big-spender") != std::string::npos);
  CHECK(text.find("frugal") == std::string::npos);
}
