// Agent processes: spawned with their environment, output split into lines, reaped through
// the watcher without polling, stopped as a whole process group.
#include "actors/launch/process.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "actors/launch/spawn_child.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::runtime;
using namespace sluice::actors;
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

// The pids a script wrote to `file`, one per line, once it has written `count` of them.
std::vector<pid_t> await_pids(const std::filesystem::path& file, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    std::ifstream in(file);
    std::vector<pid_t> pids;
    for (long p; in >> p;) pids.push_back(static_cast<pid_t>(p));
    if (pids.size() >= count) return pids;
    if (std::chrono::steady_clock::now() > deadline)
      FAIL("only " << pids.size() << " of " << count << " pids in " << file);
    std::this_thread::sleep_for(5ms);
  }
}

// An agent that starts three kinds of descendants and writes all their pids to `file`:
// a background child in its own group, one that left the group with setsid(1) (sh forks
// for `&`, so setsid runs in a non-leader and needs no second fork), and an orphan in a new
// session whose parent has already exited. Then it waits, or exits at once with `exit_now`.
std::string descendants_script(const std::filesystem::path& file, bool exit_now = false) {
  const std::string f = file.string();
  return "sleep 600 & echo $! >> " + f + ".tmp; " +                 //
         "setsid sleep 600 & echo $! >> " + f + ".tmp; " +          //
         "sh -c 'setsid sleep 600 & echo $! >> " + f + ".tmp'; " +  // parent exits at once
         "echo $$ >> " + f + ".tmp; mv " + f + ".tmp " + f + "; " + (exit_now ? "exit 0" : "wait");
}

void kill_if_alive(const std::vector<pid_t>& pids) {
  for (pid_t p : pids)
    if (!gone(p)) ::kill(p, SIGKILL);  // do not leave them behind when a test fails
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

TEST_CASE("an agent and everything it started die with a launcher that was killed with SIGKILL") {
  // Orphans are re-parented to this process instead of init: the agent's guard, once its
  // launcher is gone, is reaped here and its exit status read. Without a guard the agent's
  // descendants would land here alive, and the test would see them.
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  sluice::test::temp_dir dir;
  const auto file = dir.path() / "pids";
  const pid_t launcher = ::fork();
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    spawn_options o = sh(descendants_script(file));
    o.capture_output = false;
    auto agent = child_process::spawn(o);
    if (!agent) ::_exit(1);
    for (;;) ::pause();  // a launcher that never gets to stop its agent
  }
  const auto pids = await_pids(file, 4);
  for (pid_t p : pids) CHECK_FALSE(gone(p));

  REQUIRE(::kill(launcher, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(launcher, &status, 0) == launcher);

  for (pid_t p : pids) CHECK(await_gone(p));
  kill_if_alive(pids);
  // The guard, re-parented here, exits the way its agent did: killed by SIGKILL.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  pid_t guard = 0;
  while ((guard = ::waitpid(-1, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  REQUIRE(guard > 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("when an agent exits, everything it left running is killed, setsid or not") {
  sluice::test::temp_dir dir;
  const auto file = dir.path() / "pids";
  process_watcher w;
  recorder r;
  auto child = child_process::spawn(sh(descendants_script(file, true)));
  REQUIRE(child);
  const pid_t agent = child->pid();
  w.watch(std::move(child.value()), r.callbacks());
  const auto st = await_exit(r);  // reported once the agent and its leftovers are gone
  CHECK(st.success());
  const auto pids = await_pids(file, 4);
  CHECK(pids.back() == agent);  // pid() is the agent's, not its guard's
  for (pid_t p : pids) CHECK(gone(p));
  kill_if_alive(pids);
}

TEST_CASE("SIGKILL through the watcher kills an agent and every descendant") {
  sluice::test::temp_dir dir;
  const auto file = dir.path() / "pids";
  process_watcher w;
  recorder r;
  auto child = child_process::spawn(sh("trap '' TERM; " + descendants_script(file)));
  REQUIRE(child);
  const auto id = w.watch(std::move(child.value()), r.callbacks());
  const auto pids = await_pids(file, 4);
  CHECK(w.signal(id, SIGTERM));  // ignored by the agent; the others are outside its group
  CHECK(w.signal(id, SIGKILL));
  const auto st = await_exit(r);
  CHECK_FALSE(st.exited);
  CHECK(st.signal == SIGKILL);
  for (pid_t p : pids) CHECK(gone(p));
  kill_if_alive(pids);
}

TEST_CASE(
    "a stop's SIGTERM also reaches a daemon that left the agent's group and lost its parent") {
  sluice::test::temp_dir dir;
  const auto got = dir.path() / "got";
  {
    std::ofstream(dir.path() / "daemon.sh")
        << "trap 'echo term >> " << got.string() << "; exit 0' TERM\n"
        << "echo $$ > " << (dir.path() / "daemon.pid").string() << "\n"
        << "while :; do sleep 0.1; done\n";
  }
  // The agent starts the daemon (double fork + setsid), and on SIGTERM waits for the daemon
  // to have had its own SIGTERM before it exits (after which the guard SIGKILLs the rest).
  process_watcher w;
  recorder r;
  auto child = child_process::spawn(
      sh("trap 'while [ ! -s " + got.string() + " ]; do sleep 0.01; done; exit 0' TERM; " +
         "sh -c 'setsid sh " + (dir.path() / "daemon.sh").string() + " &'; " + "while [ ! -s " +
         (dir.path() / "daemon.pid").string() + " ]; do sleep 0.01; done; " + "echo started; " +
         "sleep 600 & wait"));
  REQUIRE(child);
  const auto id = w.watch(std::move(child.value()), r.callbacks());
  REQUIRE(r.first_line.get_future().wait_for(20s) == std::future_status::ready);
  CHECK(w.signal(id, SIGTERM));
  const auto st = await_exit(r);
  CHECK(st.success());
  std::ifstream in(got);
  std::string word;
  CHECK((in >> word && word == "term"));
}

TEST_CASE("a guard finds its children through /proc, with or without the children file") {
  std::vector<pid_t> forked;
  for (int i = 0; i < 3; ++i) {
    const pid_t p = ::fork();
    REQUIRE(p >= 0);
    if (p == 0) {
      ::pause();
      ::_exit(0);
    }
    forked.push_back(p);
  }
  std::sort(forked.begin(), forked.end());
  pid_t found[2];
  // More children than room: the count says so, the array holds the first ones.
  CHECK(sluice::actors::detail::list_children(found, 2) == 3);
  CHECK(sluice::actors::detail::list_children_by_scan(found, 2) == 3);
  pid_t all[8];
  const int n = sluice::actors::detail::list_children(all, 8);
  const int m = sluice::actors::detail::list_children_by_scan(all + 4, 4);
  REQUIRE(n == 3);
  REQUIRE(m == 3);
  std::vector<pid_t> from_file(all, all + 3);
  std::vector<pid_t> from_scan(all + 4, all + 7);
  std::sort(from_file.begin(), from_file.end());
  std::sort(from_scan.begin(), from_scan.end());
  CHECK(from_file == forked);
  CHECK(from_scan == forked);
  for (pid_t p : forked) {
    ::kill(p, SIGKILL);
    int status = 0;
    ::waitpid(p, &status, 0);
  }
  CHECK(sluice::actors::detail::list_children(all, 8) == 0);
  CHECK(sluice::actors::detail::list_children_by_scan(all, 8) == 0);
}

TEST_CASE("an unguarded child is the agent itself and dies with its spawner") {
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
    o.contain_descendants = false;
    auto agent = child_process::spawn(o);
    const pid_t pid = agent ? agent->pid() : -1;
    (void)!::write(pids[1], &pid, sizeof pid);
    for (;;) ::pause();
  }
  ::close(pids[1]);
  pid_t agent = -1;
  REQUIRE(::read(pids[0], &agent, sizeof agent) == static_cast<ssize_t>(sizeof agent));
  ::close(pids[0]);
  REQUIRE(agent > 0);
  REQUIRE(::kill(launcher, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(launcher, &status, 0) == launcher);
  // Re-parented to us (subreaper), so we can read how it died.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  pid_t reaped = 0;
  while ((reaped = ::waitpid(agent, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  if (reaped != agent) ::kill(agent, SIGKILL);
  REQUIRE(reaped == agent);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}
