// `sluice launch` end to end: real agent processes, real signals, the bus on disk.
#include <signal.h>

#include <catch2/catch.hpp>
#include <string>

#include "tests/actors/launch_harness.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

// Two long-running agents that write their pid (and their pipeline child's) to files.
const char* sleepers = R"(
[[agent]]
name = "a"
command = ["sh", "-c", "sleep 600 & echo $$ $! > $SLUICE_AGENT.pid; wait"]
replicas = 2
)";

std::vector<pid_t> pids_in(const temp_dir& d, const std::string& file) {
  std::vector<pid_t> pids;
  std::istringstream in(d.read(file));
  for (long p; in >> p;) pids.push_back(static_cast<pid_t>(p));
  return pids;
}

bool pid_file_ready(const temp_dir& d, const std::string& file) {
  const auto text = d.read(file);
  return !text.empty() && text.back() == '\n';
}

std::vector<pid_t> await_agents(const temp_dir& d) {
  REQUIRE(await([&] { return pid_file_ready(d, "a-1.pid") && pid_file_ready(d, "a-2.pid"); }));
  auto pids = pids_in(d, "a-1.pid");
  const auto more = pids_in(d, "a-2.pid");
  pids.insert(pids.end(), more.begin(), more.end());
  REQUIRE(pids.size() == 4);
  return pids;
}

}  // namespace

TEST_CASE("after SIGTERM no agent process and no bus file remains") {
  temp_dir d;
  d.write("m.toml", sleepers);
  const auto bus = d.path / "bus";
  launch_run run(d.path / "m.toml", bus);
  const auto pids = await_agents(d);
  CHECK(fs::exists(bus / "a-1.inbox"));
  CHECK(fs::exists(bus / "a-2.inbox"));
  CHECK(fs::exists(bus / "bus.ctl"));
  REQUIRE(run.signal(SIGTERM));
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->success());  // ended by our SIGTERM: clean
  for (pid_t p : pids) CHECK(await([&] { return process_gone(p); }));
  const bool bus_gone = !fs::exists(bus) || fs::is_empty(bus);
  CHECK(bus_gone);
  CHECK_THAT(run.output(), Catch::Contains("every agent ended cleanly"));
}

TEST_CASE("with --keep the inboxes stay after launch stops") {
  temp_dir d;
  d.write("m.toml", sleepers);
  const auto bus = d.path / "bus";
  launch_run run(d.path / "m.toml", bus, {"--keep"});
  const auto pids = await_agents(d);
  REQUIRE(run.signal(SIGINT));
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->success());
  for (pid_t p : pids) CHECK(await([&] { return process_gone(p); }));
  CHECK(fs::exists(bus / "a-1.inbox"));
  CHECK(fs::exists(bus / "a-2.inbox"));
}

TEST_CASE("an agent that ignores SIGTERM is killed after the grace period and launch exits 1") {
  temp_dir d;
  d.write("m.toml", R"(
[[agent]]
name = "stubborn"
command = ["sh", "-c", "trap '' TERM; echo $$ > stubborn.pid; while :; do sleep 1; done"]
)");
  launch_run run(d.path / "m.toml", d.path / "bus", {"--grace", "300ms"});
  REQUIRE(await([&] { return pid_file_ready(d, "stubborn.pid"); }));
  const pid_t pid = pids_in(d, "stubborn.pid").at(0);
  REQUIRE(run.signal(SIGTERM));
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->exited);
  CHECK(st->code == 1);
  CHECK(await([&] { return process_gone(pid); }));
  CHECK_THAT(run.output(), Catch::Contains("sending SIGKILL"));
}

TEST_CASE("a crashing agent is restarted per policy and given up after max_restarts") {
  temp_dir d;
  d.write("m.toml", R"(
[[agent]]
name = "crasher"
command = ["sh", "-c", "echo run >> runs.log; exit 3"]
restart = "on-failure"
max_restarts = 2
restart_backoff = "10ms"
)");
  launch_run run(d.path / "m.toml", d.path / "bus");
  const auto st = run.wait();  // every agent is down for good: launch ends by itself
  REQUIRE(st);
  CHECK(st->code == 1);
  CHECK(d.read("runs.log") == "run\nrun\nrun\n");
  CHECK_THAT(run.output(), Catch::Contains("restarting in 10 ms"));
  CHECK_THAT(run.output(), Catch::Contains("restarting in 20 ms"));
  CHECK_THAT(run.output(), Catch::Contains("max_restarts = 2 reached"));
}

TEST_CASE("launch exits 0 once every job has finished, stopping the services") {
  temp_dir d;
  d.write("m.toml", R"(
[[agent]]
name = "job"
command = ["sh", "-c", "echo job done"]
role = "job"
[[agent]]
name = "service"
command = ["sh", "-c", "echo $$ > service.pid; exec sleep 600"]
)");
  launch_run run(d.path / "m.toml", d.path / "bus");
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains("job     | job done"));
  CHECK_THAT(run.output(), Catch::Contains("every job has finished"));
  if (pid_file_ready(d, "service.pid")) CHECK(await([&] { return process_gone(pids_in(d, "service.pid").at(0)); }));
}

TEST_CASE("a bad manifest is an error naming the problem, and nothing is spawned") {
  temp_dir d;
  d.write("m.toml", R"(
[[agent]]
name = "first"
command = ["sh", "-c", "touch spawned"]
[[agent]]
name = "second"
command = ["./not-there"]
)");
  const auto bus = d.path / "bus";
  launch_run run(d.path / "m.toml", bus);
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->code == 65);
  CHECK_THAT(run.output(), Catch::Contains("m.toml:7: agent 'second'.command: './not-there' is not an executable file"));
  CHECK_FALSE(fs::exists(d.path / "spawned"));
  CHECK_FALSE(fs::exists(bus));

  d.write("m.toml", "[[agent]]\nname = \"x\"\ncommand = [\"sh\"]\nreplica = 2\n");
  launch_run again(d.path / "m.toml", bus);
  const auto st2 = again.wait();
  REQUIRE(st2);
  CHECK(st2->code == 65);
  CHECK_THAT(again.output(), Catch::Contains("m.toml:4: agent[0].replica: unknown key"));
  CHECK_FALSE(fs::exists(bus));
}
