// Agent processes: spawned with their environment, output split into lines, reaped through
// the watcher without polling, stopped as a whole process group.
#include "runtime/process.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace sluice::runtime;
using namespace std::chrono_literals;

namespace {

spawn_options sh(const std::string& script) {
  spawn_options o;
  o.executable = "/bin/sh";
  o.argv = {"sh", "-c", script};
  return o;
}

// Collects what the watcher reports for one child.
struct recorder {
  std::mutex mu;
  std::vector<std::string> out;
  std::vector<std::string> err;
  std::promise<exit_status> exited;
  std::promise<void> first_line;
  bool seen_line = false;

  process_watcher::callbacks callbacks() {
    return {[this](output_stream s, std::string_view line) {
              std::lock_guard<std::mutex> lock(mu);
              (s == output_stream::out ? out : err).emplace_back(line);
              if (!std::exchange(seen_line, true)) first_line.set_value();
            },
            [this](const exit_status& st) { exited.set_value(st); }};
  }
};

exit_status await_exit(recorder& r) {
  auto f = r.exited.get_future();
  REQUIRE(f.wait_for(20s) == std::future_status::ready);
  return f.get();
}

// A process is gone when /proc has no entry for it or it is a zombie (its parent is not us).
bool gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  if (!(stat >> pid_field >> comm >> state)) return true;
  return state == "Z" || state == "X";
}

bool await_gone(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!gone(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

TEST_CASE("a line splitter emits whole lines and keeps partial ones for later") {
  line_splitter s(8);
  std::vector<std::string> lines;
  auto emit = [&](std::string_view l) { lines.emplace_back(l); };
  s.feed("one\ntw", emit);
  CHECK(lines == std::vector<std::string>{"one"});
  s.feed("o\n\nthree", emit);
  CHECK(lines == std::vector<std::string>{"one", "two", ""});
  s.feed("-and-more", emit);  // 14 bytes without newline: cut at 8
  CHECK(lines.back() == "three-an");
  s.finish(emit);
  CHECK(lines.back() == "d-more");
}

TEST_CASE("a child's stdout and stderr arrive as lines before its exit is reported") {
  process_watcher w;
  recorder r;
  auto opts = sh("echo \"agent=$SLUICE_AGENT\"; echo oops >&2; pwd; printf 'no newline'; exit 3");
  opts.env = {{"SLUICE_AGENT", "w1"}};
  opts.cwd = "/tmp";
  auto child = child_process::spawn(opts);
  REQUIRE(child);
  w.watch(std::move(child.value()), r.callbacks());
  const auto st = await_exit(r);
  CHECK(st.exited);
  CHECK(st.code == 3);
  CHECK(describe(st) == "exit 3");
  std::lock_guard<std::mutex> lock(r.mu);
  CHECK(r.out == std::vector<std::string>{"agent=w1", "/tmp", "no newline"});
  CHECK(r.err == std::vector<std::string>{"oops"});
}

TEST_CASE("signalling an agent stops its whole process group, pipeline included") {
  process_watcher w;
  recorder r;
  // The pipeline's members print their pids, then everything sleeps.
  auto child =
      child_process::spawn(sh("sleep 60 | (echo $$; sh -c 'echo $PPID'; cat) & echo $!; wait"));
  REQUIRE(child);
  const pid_t leader = child->pid();
  const auto id = w.watch(std::move(child.value()), r.callbacks());
  REQUIRE(r.first_line.get_future().wait_for(20s) == std::future_status::ready);
  CHECK(w.signal(id, SIGTERM));
  const auto st = await_exit(r);
  CHECK_FALSE(st.exited);
  CHECK(st.signal == SIGTERM);
  CHECK(describe(st) == "killed by SIGTERM");
  CHECK(await_gone(leader));
  std::lock_guard<std::mutex> lock(r.mu);
  for (const auto& line : r.out) CHECK(await_gone(static_cast<pid_t>(std::stoi(line))));
  CHECK_FALSE(w.signal(id, SIGTERM));
}

TEST_CASE("what is left of an agent's group is killed when the agent exits") {
  process_watcher w;
  recorder r;
  auto child = child_process::spawn(sh("sleep 60 & echo $!; exit 0"));
  REQUIRE(child);
  w.watch(std::move(child.value()), r.callbacks());
  const auto st = await_exit(r);
  CHECK(st.success());
  std::lock_guard<std::mutex> lock(r.mu);
  REQUIRE(r.out.size() == 1);
  CHECK(await_gone(static_cast<pid_t>(std::stoi(r.out[0]))));
}

TEST_CASE("spawning a program that does not exist is an error naming it") {
  spawn_options o;
  o.executable = "/nonexistent/agent";
  o.argv = {"agent"};
  auto child = child_process::spawn(o);
  REQUIRE_FALSE(child);
  CHECK_THAT(child.err().message, Catch::Contains("cannot start /nonexistent/agent"));
}

TEST_CASE("a child dropped without being reaped is killed and reaped, leaving no zombie") {
  pid_t pid = 0;
  {
    auto child = child_process::spawn(sh("sleep 60"));
    REQUIRE(child);
    pid = child->pid();
  }
  CHECK(::kill(pid, 0) == -1);
}

TEST_CASE("the watcher delivers signals from its signalfd") {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0);
  std::promise<int> got;
  {
    process_watcher w;
    w.watch_signals({SIGUSR1}, [&](int sig) { got.set_value(sig); });
    ::kill(::getpid(), SIGUSR1);
    auto f = got.get_future();
    REQUIRE(f.wait_for(20s) == std::future_status::ready);
    CHECK(f.get() == SIGUSR1);
  }
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

TEST_CASE("an agent dies with a launcher that was killed with SIGKILL") {
  // Orphans are re-parented to this process instead of init, so the agent can be reaped here
  // and its cause of death read.
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  int pids[2];
  REQUIRE(::pipe(pids) == 0);
  const pid_t launcher = ::fork();
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    ::close(pids[0]);
    spawn_options o;
    o.executable = "/bin/sleep";
    o.argv = {"sleep", "600"};
    auto agent = child_process::spawn(o);
    const pid_t pid = agent ? agent->pid() : -1;
    (void)!::write(pids[1], &pid, sizeof pid);
    for (;;) ::pause();  // a launcher that never gets to stop its agent
  }
  ::close(pids[1]);
  pid_t agent = -1;
  REQUIRE(::read(pids[0], &agent, sizeof agent) == static_cast<ssize_t>(sizeof agent));
  ::close(pids[0]);
  REQUIRE(agent > 0);
  // The launcher has not reaped the agent, so the pid still names it.
  const int agent_fd = static_cast<int>(::syscall(SYS_pidfd_open, agent, 0));
  REQUIRE(agent_fd >= 0);

  REQUIRE(::kill(launcher, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(launcher, &status, 0) == launcher);

  pollfd exited{agent_fd, POLLIN, 0};
  const int ready = ::poll(&exited, 1, 20'000);
  if (ready != 1) ::kill(agent, SIGKILL);  // do not leave it behind when the test fails
  CHECK(ready == 1);
  REQUIRE(::waitpid(agent, &status, 0) == agent);
  ::close(agent_fd);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}
