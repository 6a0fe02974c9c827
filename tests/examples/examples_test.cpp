// The examples under `sluice launch`, smaller than in the demo, asserting what they claim.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "support/launch_harness.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

namespace {
#if defined(__SANITIZE_ADDRESS__)
const char* swarm_tasks = "1000";
#else
const char* swarm_tasks = "3000";
#endif
const fs::path examples = EXAMPLES_DIR;

// `[env] sluice <args>` on the bus in `bus`; its stdout, and its exit code in *code.
std::string run_sluice(const fs::path& bus, const std::string& args, int* code = nullptr,
                       const std::string& env = {}) {
  const std::string command =
      env + " " + sluice::test::sluice_path() + " --dir " + bus.string() + " " + args;
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
    const int status = ::pclose(pipe);
    if (code) *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return out;
}

// How many tasks the coordinator's "per worker:" line says `worker` answered; -1 if absent.
long answered_by(const std::string& output, const std::string& worker) {
  const auto at = output.find(" " + worker + "=");
  return at == std::string::npos ? -1 : std::atol(output.c_str() + at + worker.size() + 2);
}

// The README's twenty-line C++ agent (examples/worker.cpp) as the only agent of a launch;
// `planner` is a shell agent outside the manifest, as in the README's four lines.
std::string worker_manifest() {
  return "[[agent]]\nname = \"worker\"\ncommand = [\"" + (examples / "worker").string() + "\"]\n";
}
}  // namespace

TEST_CASE("the swarm demo gets every task back exactly once and exits 0") {
  temp_dir d;
  launch_run run(examples / "swarm.toml", d.path() / "bus", {}, {{"SWARM_TASKS", swarm_tasks}});
  const auto st = run.wait(120s);
  REQUIRE(st);
  INFO(run.output());
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains(std::string("exactly-once: OK: ") + swarm_tasks +
                                           " of " + swarm_tasks));
  CHECK_THAT(run.output(), Catch::Contains("worker-sh-1"));
#ifdef SWARM_HAS_PYTHON_WORKER
  CHECK_THAT(run.output(), Catch::Contains(" worker-py="));
  CHECK_THAT(run.output(), Catch::Contains("worker-py: exit 0"));
#endif
#ifdef SWARM_HAS_NODE_WORKER
  CHECK_THAT(run.output(), Catch::Contains(" worker-js="));
  CHECK_THAT(run.output(), Catch::Contains("worker-js: exit 0"));
#endif
}

TEST_CASE("the crash example restarts its crashing worker and loses no task") {
  temp_dir d;
  launch_run run(examples / "crash.toml", d.path() / "bus");
  const auto st = run.wait(120s);
  REQUIRE(st);
  INFO(run.output());
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains("crashing after 20 tasks"));
  CHECK_THAT(run.output(), Catch::Contains("worker-crashy: exit 3; restarting in"));
  CHECK_THAT(run.output(), Catch::Contains("exactly-once: OK: 5000 of 5000"));
}

TEST_CASE(
    "the coordinator fans out only once every worker has attached, so a late one still gets its "
    "share") {
  temp_dir d;
  // Three workers, one starting half a second after the others. A coordinator that fanned
  // out at once would leave the late one little more than the 32 tasks its in-flight cap
  // parks in its inbox: the others finish the rest before it starts.
  const std::string exe = examples.string() + "/";
  d.write("late.toml",
          "[inbox]\nslot_size = 512\n"
          "[[agent]]\nname = \"coordinator\"\ncommand = [\"" +
              exe +
              "coordinator\", \"--tasks\", \"5000\", \"--inflight\", \"32\"]\nrole = \"job\"\n"
              "[[agent]]\nname = \"worker\"\ncommand = [\"" +
              exe +
              "worker\"]\nreplicas = 2\n"
              "[[agent]]\nname = \"worker-late\"\n"
              "command = [\"sh\", \"-c\", \"sleep 0.5; exec " +
              exe + "worker\"]\n");
  launch_run run(d.path() / "late.toml", d.path() / "bus");
  const auto st = run.wait(120s);
  REQUIRE(st);
  INFO(run.output());
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains("exactly-once: OK: 5000 of 5000"));
  CHECK(answered_by(run.output(), "worker-late") > 500);
}

TEST_CASE("the pipeline example computes the right total through two stages") {
  temp_dir d;
  launch_run run(examples / "pipeline.toml", d.path() / "bus");
  const auto st = run.wait(120s);
  REQUIRE(st);
  INFO(run.output());
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains("(correct)"));
}

TEST_CASE("the README's C++ agent replies to a shell agent whose inbox does not exist yet") {
  temp_dir d;
  d.write("m.toml", worker_manifest());
  const auto bus = d.path() / "bus";
  // The agents inherit the bus configuration from launch's environment.
  launch_run run(d.path() / "m.toml", bus, {}, {{"MAX_INBOX_SIZE", "37"}});
  REQUIRE(eventually([&] { return fs::exists(bus / "worker.inbox"); }));
  REQUIRE_FALSE(fs::exists(bus / "planner.inbox"));  // nobody has received as planner yet
  int code = -1;
  run_sluice(bus, "send planner worker task '{\"n\":1}'", &code);  // creates worker's only
  REQUIRE(code == 0);
  // The reply creates planner's inbox, with the bus's geometry, as `sluice send` would.
  INFO(run.output());
  REQUIRE(eventually([&] { return fs::exists(bus / "planner.inbox"); }, 20s));
  const auto got = run_sluice(bus, "recv planner --wait 10s", &code);
  CHECK(code == 0);
  CHECK_THAT(got, Catch::Contains("\"from\":\"worker\"") &&
                      Catch::Contains("\"type\":\"result\"") &&
                      Catch::Contains("\"payload\":{\"n\":1}"));
  CHECK_THAT(
      run_sluice(bus, "get-stats"),
      Catch::Contains("{\"agent\":\"planner\",\"size\":0,\"utilization\":0,\"max_size\":37,"));
  REQUIRE(run.signal(SIGTERM));
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains("every agent ended cleanly"));
}

TEST_CASE(
    "a reply the C++ agent cannot deliver is logged, and launch reports it as not ended cleanly") {
  temp_dir d;
  d.write("m.toml", worker_manifest());
  const auto bus = d.path() / "bus";
  launch_run run(d.path() / "m.toml", bus);
  REQUIRE(eventually([&] { return fs::exists(bus / "worker.inbox"); }));
  int code = -1;
  // planner's inbox takes 120-byte payloads; the task (and so its echo) is 300 bytes.
  run_sluice(bus, "init planner", &code, "SLUICE_SLOT_SIZE=256");
  REQUIRE(code == 0);
  run_sluice(bus, "send planner worker task " + std::string(300, 'x'), &code);
  REQUIRE(code == 0);
  INFO(run.output());
  REQUIRE(eventually([&] { return run.output().find("not delivered") != std::string::npos; }, 20s));
  CHECK_THAT(run.output(), Catch::Contains("worker | ") &&
                               Catch::Contains("message to 'planner' not delivered: payload is 300 "
                                               "bytes, inbox planner takes at most 120"));
  CHECK(run_sluice(bus, "count planner") == "0\n");
  REQUIRE(run.signal(SIGTERM));
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->code == 1);
  CHECK_THAT(run.output(), Catch::Contains("worker: exit 65"));
  CHECK_THAT(run.output(), Catch::Contains("some agents did not end cleanly"));
}
