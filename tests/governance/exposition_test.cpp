// The bus policy in metrics.prom: decisions by rule and outcome, acquires, quota and leases.
#include "monitors/exposition.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "governance/acquire.hpp"
#include "governance/clock.hpp"
#include "governance/holder.hpp"
#include "governance/policy_file.hpp"
#include "governance/send_gate.hpp"
#include "governance/store.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::governance;

TEST_CASE("metrics.prom carries every rule's decisions and every limit's quota and leases") {
  sluice::test::temp_dir dir;
  auto parsed = parse_policy(
      "[[rule]]\nname = \"no-spam\"\ntype = \"spam\"\naction = \"deny\"\n"
      "[[limit]]\nname = \"llm\"\nconcurrency = 2\nquota = \"1000/d\"\n",
      "p.toml");
  REQUIRE(parsed.value);
  auto s = store::open_or_create(dir.path());
  REQUIRE(s);
  REQUIRE(s.value().apply(*parsed.value, "p.toml"));
  send_gate gate(dir.path());
  (void)gate.admit({"a", "b", "spam", sluice::inbox::priority::normal}, monotonic_ns());
  const auto* p = s.value().current().value();
  acquire_request q{"llm", 30, "agent", *holder_word(::getpid())};
  REQUIRE(try_acquire(s.value().raw(), *p, q, monotonic_ns(), realtime_ns()).status ==
          acquire_status::granted);
  const std::string text = sluice::monitors::render_bus_metrics(dir.path());
  INFO(text);
  CHECK(text.find("sluice_policy_decisions_total{bus=") != std::string::npos);
  CHECK(text.find("rule=\"no-spam\",outcome=\"denied\"} 1") != std::string::npos);
  CHECK(text.find("sluice_quota_used{") != std::string::npos);
  CHECK(text.find("limit=\"llm\"} 30") != std::string::npos);
  CHECK(text.find("sluice_lease_holders{") != std::string::npos);
}
