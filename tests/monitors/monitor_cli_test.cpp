// The monitor verbs through the real sluice executable: JSON out, bus.ctl written, clean stop.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "inbox/inbox.hpp"
#include "monitor_test_support.hpp"
#include "runtime/bus_control.hpp"
#include "support/process.hpp"

extern char** environ;

using namespace sluice;
using namespace std::chrono_literals;
using test::eventually;

namespace {

struct child {
  pid_t pid = -1;
  int out = -1;  // stdout read end
};

child start(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string exe = sluice::test::sluice_path();
  argv.push_back(exe.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  child c;
  REQUIRE(::posix_spawn(&c.pid, exe.c_str(), &fa, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  c.out = fds[0];
  return c;
}

std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return s;
}

// Exit code, or nullopt when the child has not exited by the deadline (then it is killed).
std::optional<int> await_exit(pid_t pid, std::chrono::milliseconds deadline) {
  int status = 0;
  const bool done = eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, deadline);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return std::nullopt;
  }
  return WIFEXITED(status) ? std::optional<int>(WEXITSTATUS(status))
                           : std::optional<int>(128 + WTERMSIG(status));
}

}  // namespace

TEST_CASE("apply-rate-limit prints its decision as JSON and publishes the same in bus.ctl") {
  test::temp_dir bus;
  auto c = start({"--dir", bus.path().string(), "apply-rate-limit", "--load-source", "loadavg"});
  const auto out = read_all(c.out);
  REQUIRE(await_exit(c.pid, 30s) == 0);
  const auto j = nlohmann::json::parse(out);
  CHECK(j["source"] == "loadavg");
  CHECK(j["load_per_cpu"].is_number());
  const auto batch = j["batch_size"].get<std::uint32_t>();
  const auto wait = j["backpressure_wait_ms"].get<std::uint32_t>();
  CHECK(
      ((batch == 5 && wait == 200) || (batch == 10 && wait == 100) || (batch == 20 && wait == 50)));
  auto p = runtime::read_policy(bus.path(), {0, 0});
  REQUIRE(p);
  CHECK(p->batch_size == batch);
  CHECK(p->backpressure_wait_ms == wait);
}

TEST_CASE("monitor-overflow runs in the foreground and stops cleanly on SIGTERM") {
  test::temp_dir bus;
  auto c = start({"--dir", bus.path().string(), "monitor-overflow", "0.1"});
  const bool ticking =
      eventually([&] { return std::filesystem::exists(bus.path() / "metrics.prom"); }, 30s);
  ::kill(c.pid, SIGTERM);
  CHECK(await_exit(c.pid, 30s) == 0);
  ::close(c.out);
  CHECK(ticking);
}

TEST_CASE("monitor-rate-limit stops cleanly on SIGINT after publishing into bus.ctl") {
  test::temp_dir bus;
  auto c = start(
      {"--dir", bus.path().string(), "monitor-rate-limit", "0.1", "--load-source", "loadavg"});
  const bool published = eventually(
      [&] {
        auto ctl = runtime::bus_control::open(bus.path());
        return ctl && ctl->load().updated_ns != 0;
      },
      30s);
  ::kill(c.pid, SIGINT);
  CHECK(await_exit(c.pid, 30s) == 0);
  ::close(c.out);
  CHECK(published);
}

TEST_CASE("a monitor interval below 0.1 s is refused before anything starts") {
  test::temp_dir bus;
  auto c = start({"--dir", bus.path().string(), "monitor-overflow", "0.01"});
  (void)read_all(c.out);
  const auto code = await_exit(c.pid, 30s);
  REQUIRE(code);
  CHECK(*code != 0);
  CHECK_FALSE(std::filesystem::exists(bus.path() / "metrics.prom"));
}

TEST_CASE("monitor-overflow --for 2 writes a pending line before the alert fires") {
  test::temp_dir bus;
  inbox::create_options opts;
  opts.capacity = 20;
  auto box = inbox::inbox::open_or_create(bus.path(), "w1", opts);
  REQUIRE(box);
  for (int i = 0; i < 17; ++i) REQUIRE(box->try_push({"t", "task", "x"}) == inbox::push_result::ok);
  auto c = start({"--dir", bus.path().string(), "monitor-overflow", "0.1", "--for", "2"});
  const auto alerts = bus.path() / "alerts.jsonl";
  const bool fired = eventually(
      [&] {
        for (const auto& l : test::read_jsonl(alerts))
          if (l["state"] == "firing") return true;
        return false;
      },
      30s);
  ::kill(c.pid, SIGTERM);
  CHECK(await_exit(c.pid, 30s) == 0);
  ::close(c.out);
  REQUIRE(fired);
  const auto lines = test::read_jsonl(alerts);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0]["type"] == "inbox_high_utilization");
  CHECK(lines[0]["state"] == "pending");
  CHECK(lines[1]["type"] == "inbox_high_utilization");
  CHECK(lines[1]["state"] == "firing");
}
