// A C++ agent's send/reply: a missing destination is created as `sluice send` creates it, and
// a message that is not delivered anyway is counted and sets run_agent's exit code, which is
// what `sluice launch` judges an agent by.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>

#include "actors/agent/agent.hpp"
#include "backpressure/send.hpp"
#include "inbox/inbox.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using backpressure::send_status;

namespace {

struct bus {
  sluice::test::temp_dir tmp;
  std::filesystem::path dir = tmp.path() / "bus";
  bus() { REQUIRE(inbox::inbox::open_or_create(dir, "me", {})); }
};

actors::agent_options options_for(const bus& b) {
  actors::agent_options opts;
  opts.name = "me";
  opts.bus_dir = b.dir;
  opts.handle_signals = false;
  opts.send.deadline = 20ms;  // a full destination is given up quickly
  return opts;
}

// Runs agent "me" until its on_start has sent what `act` sends, then stops it with `code`;
// returns run_agent's exit code and the agent's stats at the end.
struct outcome {
  int exit_code = -1;
  actors::agent_stats stats;
  send_status status = send_status::rejected;
};
template <class Act>
outcome run_me(actors::agent_options opts, Act act, int code = 0) {
  outcome o;
  actors::agent_handlers h;
  h.on_start = [&](actors::agent& self) {
    o.status = act(self);
    o.stats = self.stats();
    self.stop(code);
  };
  o.exit_code = actors::run_agent(std::move(h), std::move(opts));
  return o;
}

inbox::inbox full_inbox(const bus& b, const char* name) {
  inbox::create_options tiny;
  tiny.capacity = 1;
  tiny.critical_reserve = 1;
  auto box = inbox::inbox::open_or_create(b.dir, name, tiny);
  REQUIRE(box);
  REQUIRE(box->try_push({"filler", "t", "x"}) == inbox::push_result::ok);
  return std::move(box.value());
}

}  // namespace

TEST_CASE("an agent's send creates a missing destination with the bus configuration's geometry") {
  bus b;
  std::ofstream(b.dir / "sluice.toml") << "[inbox]\nmax_size = 37\nslot_size = 512\n";
  const auto o = run_me(options_for(b),
                        [](actors::agent& self) { return self.send("planner", "result", "42"); });
  CHECK(o.exit_code == 0);
  CHECK(o.status == send_status::sent);
  CHECK(o.stats.send_failures == 0);
  auto planner = inbox::inbox::open(b.dir, "planner");
  REQUIRE(planner);
  CHECK(planner->capacity() == 37);
  CHECK(planner->snapshot().max_payload == 512 - 136);
  CHECK(planner->size() == 1);
}

TEST_CASE("a payload a new destination would refuse creates nothing and is a lost message (65)") {
  bus b;
  std::ofstream(b.dir / "sluice.toml") << "[inbox]\nslot_size = 256\n";
  const auto o = run_me(options_for(b), [](actors::agent& self) {
    return self.send("planner", "result", std::string(200, 'x'));
  });
  CHECK(o.status != send_status::sent);
  CHECK(o.stats.send_failures == 1);
  CHECK(o.exit_code == 65);
  CHECK_FALSE(std::filesystem::exists(b.dir / "planner.inbox"));
}

TEST_CASE("a send to a destination that stays full is counted and run_agent returns 75") {
  bus b;
  auto dest = full_inbox(b, "planner");
  const auto o = run_me(options_for(b),
                        [](actors::agent& self) { return self.send("planner", "result", "lost"); });
  CHECK(o.status == send_status::timed_out);
  CHECK(o.stats.send_failures == 1);
  CHECK(o.exit_code == 75);
  CHECK(dest.snapshot().send_failures == 1);  // also in the destination's header
}

TEST_CASE("a send refused by an open circuit makes run_agent return 69") {
  bus b;
  auto dest = full_inbox(b, "planner");
  // Five exhausted sends trip the destination's breaker, for an hour.
  backpressure::send_policy tripping;
  tripping.deadline = 1ms;
  tripping.breaker.cooldown = std::chrono::hours(1);
  for (int i = 0; i < 5; ++i)
    REQUIRE(backpressure::send_with_backpressure(dest, {"other", "t", "x"}, tripping).status ==
            send_status::timed_out);
  const auto o = run_me(options_for(b),
                        [](actors::agent& self) { return self.send("planner", "result", "lost"); });
  CHECK(o.status == send_status::circuit_open);
  CHECK(o.stats.send_failures == 1);
  CHECK(o.exit_code == 69);
}

TEST_CASE("a no-wait send that finds the destination full is the caller's to handle, not lost") {
  bus b;
  auto dest = full_inbox(b, "planner");
  auto opts = options_for(b);
  opts.send.wait = false;
  const auto o =
      run_me(opts, [](actors::agent& self) { return self.send("planner", "task", "x"); });
  CHECK(o.status == send_status::full);
  CHECK(o.stats.full == 1);
  CHECK(o.stats.send_failures == 0);
  CHECK(o.exit_code == 0);
}

TEST_CASE(
    "a lost message leaves a non-zero stop code alone, and can be told not to fail the exit") {
  bus b;
  auto dest = full_inbox(b, "planner");
  auto lose = [](actors::agent& self) { return self.send("planner", "result", "lost"); };
  CHECK(run_me(options_for(b), lose, 3).exit_code == 3);
  auto opts = options_for(b);
  opts.lost_message_fails_exit = false;
  const auto o = run_me(opts, lose);
  CHECK(o.stats.send_failures == 1);  // still counted (and logged)
  CHECK(o.exit_code == 0);
}
