#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "monitor_test_support.hpp"
#include "monitors/monitor_actors.hpp"
#include "runtime/bus_control.hpp"
#include "support/children.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using test::eventually;

namespace {

// Busy child processes, one per core, killed and reaped when the guard goes.
struct cpu_burners {
  std::vector<pid_t> pids;
  explicit cpu_burners(long n) {
    for (long i = 0; i < n; ++i) {
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        volatile unsigned long spin = 0;
        for (;;) spin = spin + 1;
      }
      pids.push_back(pid);
    }
  }
  ~cpu_burners() {
    for (auto pid : pids) ::kill(pid, SIGKILL);
    for (auto pid : pids) ::waitpid(pid, nullptr, 0);
  }
};

// What a sender process started now would use as its base wait: read in a fresh process.
std::uint32_t wait_seen_by_new_process(const std::filesystem::path& dir) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = sluice::test::spawn([&] {
    ::close(fds[0]);
    auto p = runtime::read_policy(dir, {10, 100});
    const std::uint32_t wait = p ? p->backpressure_wait_ms : 0;
    const auto n = ::write(fds[1], &wait, sizeof wait);
    return n == sizeof wait ? 0 : 1;
  });
  ::close(fds[1]);
  std::uint32_t wait = 0;
  const auto n = ::read(fds[0], &wait, sizeof wait);
  ::close(fds[0]);
  REQUIRE(sluice::test::reap(pid) == 0);
  REQUIRE(n == static_cast<ssize_t>(sizeof wait));
  return wait;
}

}  // namespace

TEST_CASE("full cpu load on every core drives bus.ctl to batch 5 / wait 200 and new senders use it",
          "[stress]") {
  test::temp_dir bus;
  monitors::monitor_settings s;
  s.bus_dir = bus.path();
  s.interval = 200ms;
  s.source = monitors::load_source::stat;

  bool reached = false;
  std::uint32_t seen = 0;
  {
    cpu_burners burn{::sysconf(_SC_NPROCESSORS_ONLN)};
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 1);
    caf::actor_system sys{cfg};
    auto monitor = monitors::spawn_load_monitor(sys, s);
    reached = eventually(
        [&] {
          auto p = runtime::read_policy(bus.path(), {0, 0});
          return p && p->batch_size == 5 && p->backpressure_wait_ms == 200;
        },
        20s);
    // Read while the monitor still renews the setting (it expires a few intervals after the
    // monitor stops). The child only maps bus.ctl and exits: safe after fork with threads.
    if (reached) seen = wait_seen_by_new_process(bus.path());
    caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  }
  REQUIRE(reached);
  CHECK(seen == 200);
}
