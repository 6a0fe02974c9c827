// A C++ agent obeys the bus policy on every send, without anything in its options.
#include "actors/agent/agent.hpp"

#include <catch2/catch.hpp>
#include <chrono>

#include "governance/policy_file.hpp"
#include "governance/store.hpp"
#include "inbox/inbox.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;
using backpressure::send_status;

TEST_CASE("an agent's sends obey the policy applied to its bus") {
  sluice::test::temp_dir tmp;
  const auto dir = tmp.path() / "bus";
  REQUIRE(inbox::inbox::open_or_create(dir, "me", {}));
  auto parsed = governance::parse_policy(
      "[[rule]]\nname = \"no-spam\"\ntype = \"spam\"\naction = \"deny\"\n"
      "[[rule]]\nname = \"two-tasks\"\ntype = \"task\"\naction = \"limit\"\nrate = \"2/h\"\nburst "
      "= 2\n",
      "p.toml");
  REQUIRE(parsed.value);
  auto s = governance::store::open_or_create(dir);
  REQUIRE(s);
  REQUIRE(s.value().apply(*parsed.value, "p.toml"));

  actors::agent_options opts;
  opts.name = "me";
  opts.bus_dir = dir;
  opts.handle_signals = false;
  opts.send.wait = false;
  std::vector<send_status> got;
  actors::agent_handlers h;
  h.on_start = [&](actors::agent& self) {
    got.push_back(self.send("other", "spam", "{}"));
    for (int i = 0; i < 3; ++i) got.push_back(self.send("other", "task", "{}"));
    self.stop(0);
  };
  (void)actors::run_agent(std::move(h), std::move(opts));
  REQUIRE(got.size() == 4);
  CHECK(got[0] == send_status::denied);
  CHECK(got[1] == send_status::sent);
  CHECK(got[2] == send_status::sent);
  CHECK(got[3] == send_status::rate_limited);
}
