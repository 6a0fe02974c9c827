// A C++ agent addresses `agent@peer` the way `sluice send` does: the message goes into the
// bridge's outbound inbox `bridge-<peer>` with the far agent in the envelope. No bridge runs
// here; the test reads the outbound inbox the bridge would consume.
#include <catch2/catch.hpp>

#include "actors/agent.hpp"
#include "backpressure/bridge_route.hpp"
#include "inbox/inbox.hpp"
#include "temp_dir.hpp"

using namespace sluice;

TEST_CASE("a C++ agent's send to far@east lands in bridge-east with far in the envelope") {
  runtime::test::temp_dir tmp;
  const auto dir = tmp.path() / "bus";
  REQUIRE(inbox::inbox::open_or_create(dir, "me", {}));
  auto outbound = inbox::inbox::open_or_create(dir, "bridge-east", {});
  REQUIRE(outbound);

  backpressure::send_status remote = backpressure::send_status::rejected;
  backpressure::send_status malformed = backpressure::send_status::sent;
  actors::agent_handlers h;
  h.on_start = [&](actors::agent& self) {
    remote = self.send("far@east", "task", "hello far");
    malformed = self.send("far@", "task", "nowhere");
    self.stop(0);
  };
  actors::agent_options opts;
  opts.name = "me";
  opts.bus_dir = dir;
  opts.handle_signals = false;
  REQUIRE(actors::run_agent(std::move(h), opts) == 0);

  CHECK(remote == backpressure::send_status::sent);
  CHECK(malformed != backpressure::send_status::sent);
  auto c = outbound->attach_consumer();
  REQUIRE(c);
  inbox::received_message m[2];
  REQUIRE(c->pop_batch(m, 2) == 1);
  CHECK(m[0].from == "me");
  CHECK(m[0].type == "task");
  const auto env = backpressure::unwrap_envelope(m[0].payload);
  REQUIRE(env);
  CHECK(env->agent == "far");
  CHECK(env->payload == "hello far");
}
