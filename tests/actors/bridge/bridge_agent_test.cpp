// A C++ agent addresses `agent@peer` the way `sluice send` does: the message goes into the
// bridge's outbound inbox `bridge-<peer>` with the far agent in the envelope. No bridge runs
// here; the test reads the outbound inbox the bridge would consume (created by the agent when
// no bridge has yet, with the bus configuration's capacity).
#include <catch2/catch.hpp>
#include <fstream>

#include "actors/agent/agent.hpp"
#include "backpressure/address.hpp"
#include "inbox/inbox.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;

namespace {

// Runs agent "me" on the bus in `dir` in this process until a handler stops it.
int run_me(const std::filesystem::path& dir, actors::agent_handlers h) {
  actors::agent_options opts;
  opts.name = "me";
  opts.bus_dir = dir;
  opts.handle_signals = false;
  return actors::run_agent(std::move(h), opts);
}

}  // namespace

TEST_CASE(
    "a C++ agent's send to far@east creates bridge-east and lands there with far in the "
    "envelope") {
  sluice::test::temp_dir tmp;
  const auto dir = tmp.path() / "bus";
  REQUIRE(inbox::inbox::open_or_create(dir, "me", {}));
  // inbox.max_size from the bus's sluice.toml: the outbound inbox the agent creates takes it.
  std::ofstream(dir / "sluice.toml") << "[inbox]\nmax_size = 37\n";

  backpressure::send_status remote = backpressure::send_status::rejected;
  backpressure::send_status malformed = backpressure::send_status::sent;
  actors::agent_handlers h;
  h.on_start = [&](actors::agent& self) {
    remote = self.send("far@east", "task", "hello far");
    malformed = self.send("far@", "task", "nowhere");
    self.stop(0);
  };
  // The malformed address is a lost message: the agent does not exit 0.
  REQUIRE(run_me(dir, std::move(h)) == 65);

  CHECK(remote == backpressure::send_status::sent);
  CHECK(malformed != backpressure::send_status::sent);
  auto outbound = inbox::inbox::open(dir, "bridge-east");
  REQUIRE(outbound);
  CHECK(outbound->capacity() == 37);
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

TEST_CASE("an agent with an invalid inbox size in the configuration refuses to start with 65") {
  sluice::test::temp_dir tmp;
  const auto dir = tmp.path() / "bus";
  REQUIRE(inbox::inbox::open_or_create(dir, "other", {}));
  std::ofstream(dir / "sluice.toml") << "[inbox]\nmax_size = 0\n";
  bool started = false;
  actors::agent_handlers h;
  h.on_start = [&](actors::agent& self) {
    started = true;
    self.stop(0);
  };
  CHECK(run_me(dir, std::move(h)) == 65);
  CHECK_FALSE(started);
  CHECK_FALSE(std::filesystem::exists(dir / "me.inbox"));
}
