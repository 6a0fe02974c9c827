// The restart rules of launch's supervisors, without processes or clocks.
#include "actors/launch/restart_policy.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sluice::actors::agent_role;
using sluice::actors::restart_mode;
using sluice::actors::restart_policy;

TEST_CASE("restart never leaves a crashed agent down") {
  restart_policy p(restart_mode::never, agent_role::service, 5, 100ms);
  CHECK_FALSE(p.on_exit(false, false).restart);
  CHECK(p.restarts() == 0);
}

TEST_CASE("restart on-failure restarts crashes but not clean exits") {
  restart_policy p(restart_mode::on_failure, agent_role::service, 5, 100ms);
  CHECK(p.on_exit(false, false).restart);
  CHECK_FALSE(p.on_exit(true, false).restart);
}

TEST_CASE("restart always restarts a service after a clean exit but not a finished job") {
  restart_policy service(restart_mode::always, agent_role::service, 5, 100ms);
  CHECK(service.on_exit(true, false).restart);
  restart_policy job(restart_mode::always, agent_role::job, 5, 100ms);
  CHECK_FALSE(job.on_exit(true, false).restart);
  CHECK(job.on_exit(false, false).restart);
}

TEST_CASE("the restart delay doubles per restart and is capped at 30 s") {
  restart_policy p(restart_mode::always, agent_role::service, 100, 100ms);
  CHECK(p.on_exit(false, false).delay == 100ms);
  CHECK(p.on_exit(false, false).delay == 200ms);
  CHECK(p.on_exit(false, false).delay == 400ms);
  for (int i = 0; i < 60; ++i) CHECK(p.on_exit(false, false).delay <= 30s);
  CHECK(p.on_exit(false, false).delay == 30s);
}

TEST_CASE("an agent stops being restarted after max_restarts") {
  restart_policy p(restart_mode::on_failure, agent_role::service, 2, 10ms);
  CHECK(p.on_exit(false, false).restart);
  CHECK(p.on_exit(false, false).restart);
  const auto last = p.on_exit(false, false);
  CHECK_FALSE(last.restart);
  CHECK(last.reason == "max_restarts = 2 reached");
  CHECK(p.restarts() == 2);
}

TEST_CASE("nothing is restarted while launch is stopping") {
  restart_policy p(restart_mode::always, agent_role::service, 5, 10ms);
  CHECK_FALSE(p.on_exit(false, true).restart);
  CHECK(p.restarts() == 0);
}
