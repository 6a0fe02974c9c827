// The examples under `sluice launch`, smaller than in the demo, asserting what they claim.
#include <catch2/catch.hpp>
#include <string>

#include "tests/actors/launch_harness.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

namespace {
#if defined(__SANITIZE_ADDRESS__)
const char* swarm_tasks = "1000";
#else
const char* swarm_tasks = "3000";
#endif
const fs::path examples = EXAMPLES_DIR;
}  // namespace

TEST_CASE("the swarm demo gets every task back exactly once and exits 0") {
  temp_dir d;
  launch_run run(examples / "swarm.toml", d.path / "bus", {}, {{"SWARM_TASKS", swarm_tasks}});
  const auto st = run.wait(120s);
  REQUIRE(st);
  INFO(run.output());
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains(std::string("exactly-once: OK: ") + swarm_tasks + " of " + swarm_tasks));
  CHECK_THAT(run.output(), Catch::Contains("worker-sh-1"));
}

TEST_CASE("the crash example restarts its crashing worker and loses no task") {
  temp_dir d;
  launch_run run(examples / "crash.toml", d.path / "bus");
  const auto st = run.wait(120s);
  REQUIRE(st);
  INFO(run.output());
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains("crashing after 700 tasks"));
  CHECK_THAT(run.output(), Catch::Contains("worker-crashy: exit 3; restarting in"));
  CHECK_THAT(run.output(), Catch::Contains("exactly-once: OK: 5000 of 5000"));
}

TEST_CASE("the pipeline example computes the right total through two stages") {
  temp_dir d;
  launch_run run(examples / "pipeline.toml", d.path / "bus");
  const auto st = run.wait(120s);
  REQUIRE(st);
  INFO(run.output());
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains("(correct)"));
}
