// sluice doctor after every process of a bus was killed: it reports the pending messages, the
// dead consumer and what the dead left behind, and --repair makes the inbox usable again
// without losing a pending message.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>

#include "inbox/inbox.hpp"
#include "inbox/test_hooks.hpp"
#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;
namespace sx = sluice::inbox;

namespace {

void die_now() {
  ::raise(SIGKILL);
}

template <class F>
pid_t run_and_die(F fn) {
  const pid_t child = ::fork();
  if (child == 0) {
    fn();
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  return child;
}

// Three messages sent with the real executable, then: a consumer killed holding an
// uncommitted batch, a producer killed between claim and publish, and a creator's temp file.
struct crashed_bus {
  bus_fixture bus;
  pid_t dead_consumer = 0;
  pid_t dead_producer = 0;
  fs::path temp_file;

  crashed_bus() {
    for (const char* p : {"one", "two", "three"}) ok_out(bus, {"send", "a", "w", "t", p});
    dead_consumer = run_and_die([&] {
      auto in = sx::inbox::open(bus.dir(), "w");
      if (!in) return;
      auto c = in->attach_consumer();
      if (!c) return;
      (void)c->pop_batch(2);
      ::raise(SIGKILL);
    });
    dead_producer = run_and_die([&] {
      sx::test_hooks::after_claim = die_now;
      auto in = sx::inbox::open(bus.dir(), "w");
      if (in)
        (void)in->try_push(sx::message_view{"a", "t", "never published", sx::priority::normal});
    });
    temp_file = bus.dir() / (".w.inbox.tmp." + std::to_string(dead_producer) + ".42");
    std::ofstream(temp_file) << "half-created";
  }
};

bool has_problem(const nlohmann::json& inbox, const std::string& kind) {
  for (const auto& p : inbox["problems"]) {
    if (p["kind"] == kind) return true;
  }
  return false;
}

}  // namespace

TEST_CASE(
    "doctor reports the pending messages, the dead consumer and what dead processes left behind") {
  crashed_bus c;
  const auto r = c.bus.run({"doctor", "--json"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  const auto j = parse_json(r.out);
  const auto& w = j["inboxes"]["w"];
  CHECK(j["healthy"] == false);
  CHECK(w["pending"] == 4);  // three messages and the dead producer's slot
  CHECK(w["pending_by_lane"]["normal"] == 4);
  CHECK(w["consumer"]["recorded_pid"] == c.dead_consumer);
  CHECK(w["consumer"]["recorded_pid_alive"] == false);
  CHECK(w["consumer"]["lock_held"] == false);
  CHECK(has_problem(w, "stale_consumer_pid"));
  CHECK(has_problem(w, "abandoned_claim"));
  REQUIRE(j["leftover_files"].size() == 1);
  CHECK(j["leftover_files"][0] == c.temp_file.filename().string());
  CHECK(fs::exists(c.temp_file));  // without --repair nothing is changed
}

TEST_CASE("doctor prints a readable report that names the dead consumer and the fix") {
  crashed_bus c;
  const auto r = c.bus.run({"doctor"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("w: capacity 1000") != std::string::npos);
  CHECK(r.out.find("pending 4") != std::string::npos);
  CHECK(r.out.find("pid " + std::to_string(c.dead_consumer) + " is recorded and dead") !=
        std::string::npos);
  CHECK(r.out.find("run sluice doctor --repair") != std::string::npos);
}

TEST_CASE("doctor --repair makes a crashed inbox usable again without losing a pending message") {
  crashed_bus c;
  const auto fixed = c.bus.run({"doctor", "--repair", "--json"});
  INFO(fixed.err);
  CHECK(fixed.exit_code == 0);
  const auto j = parse_json(fixed.out);
  CHECK(j["healthy"] == true);
  CHECK_FALSE(j["inboxes"]["w"]["repairs"].empty());
  CHECK_FALSE(fs::exists(c.temp_file));
  // The dead producer's slot is skipped for good; the three sent messages are all still there.
  CHECK(count_of(c.bus, "w") == 4);
  const auto got = parse_json(ok_out(c.bus, {"recv", "w"}));
  REQUIRE(got.size() == 3);
  CHECK(got[0]["payload"] == "one");
  CHECK(got[1]["payload"] == "two");
  CHECK(got[2]["payload"] == "three");
  ok_out(c.bus, {"send", "a", "w", "t", "after"});
  CHECK(parse_json(ok_out(c.bus, {"recv", "w"})).size() == 1);
  const auto again = c.bus.run({"doctor"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("healthy") != std::string::npos);
}

TEST_CASE("doctor sees a live consumer and --repair leaves its inbox alone") {
  bus_fixture bus;
  auto follower = bus.start({"recv", "w", "--follow"});
  ok_out(bus, {"send", "a", "w", "t", "x"});
  REQUIRE(follower.read_line(std::chrono::seconds(10)).has_value());
  const auto j = parse_json(ok_out(bus, {"doctor", "--repair", "--json"}));
  const auto& w = j["inboxes"]["w"];
  CHECK(w["consumer"]["lock_held"] == true);
  CHECK(w["consumer"]["recorded_pid"] == follower.pid());
  CHECK(w["consumer"]["recorded_pid_alive"] == true);
  CHECK(w["problems"].empty());
  CHECK_FALSE(w.contains("repairs"));
  follower.signal(SIGTERM);
  CHECK(follower.finish().exit_code == 0);
}

TEST_CASE("doctor on a bus that does not exist reports an empty, healthy bus") {
  bus_fixture bus;
  const auto j = parse_json(ok_out(bus, {"doctor", "--json"}));
  CHECK(j["inboxes"].empty());
  CHECK(j["healthy"] == true);
}
