// `sluice launch` end to end: real agent processes, real signals, the bus on disk.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "support/launch_harness.hpp"
#include "support/skip.hpp"

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
  REQUIRE(eventually([&] { return pid_file_ready(d, "a-1.pid") && pid_file_ready(d, "a-2.pid"); }));
  auto pids = pids_in(d, "a-1.pid");
  const auto more = pids_in(d, "a-2.pid");
  pids.insert(pids.end(), more.begin(), more.end());
  REQUIRE(pids.size() == 4);
  return pids;
}

// An agent whose descendants try every way out of its process group: a background child, one
// that called setsid(), and one in a new session whose parent has already exited. It writes
// their pids and its own to family.pids.
const char* family_script = R"(
sleep 600 & echo $! > family.pids.tmp
setsid sleep 600 & echo $! >> family.pids.tmp
sh -c 'setsid sleep 600 & echo $! >> family.pids.tmp'
echo $$ >> family.pids.tmp
mv family.pids.tmp family.pids
wait
)";

// examples/bash_worker.sh's shape: `sluice recv --follow | while read`, here writing what it
// receives to got.jsonl.
const char* follower_script = R"(
set -euo pipefail
"$SLUICE_BIN" recv "$SLUICE_AGENT" --follow --jsonl | while IFS= read -r line; do
  printf '%s\n' "$line" >> got.jsonl
done
)";

const char* family_manifest = R"(
[[agent]]
name = "family"
command = ["sh", "family.sh"]
[[agent]]
name = "follower"
command = ["bash", "follower.sh"]
)";

// The parent of every process now, from /proc/<pid>/stat ("pid (comm) state ppid ...").
std::map<pid_t, pid_t> parents() {
  std::map<pid_t, pid_t> parent;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (fields >> state >> ppid)
      parent[static_cast<pid_t>(std::stol(name))] = static_cast<pid_t>(ppid);
  }
  return parent;
}

// Every process below `root` now.
std::set<pid_t> descendants_of(pid_t root) {
  const auto parent = parents();
  std::set<pid_t> found{root};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, ppid] : parent)
      if (found.count(ppid) && found.insert(pid).second) grew = true;
  }
  found.erase(root);
  return found;
}

// Runs a command line (as `user` through setpriv when given) and returns its exit code.
int shell(const std::string& command, const std::string& user = {}) {
  const std::string prefix =
      user.empty() ? "" : "/usr/bin/setpriv --reuid=" + user + " --regid=nogroup --clear-groups ";
  const int status = std::system((prefix + command).c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct family_launch {
  const temp_dir& d;
  std::string user;  // empty: as ourselves
  fs::path bus() const { return d.path() / "bus"; }

  std::vector<std::string> wrapper() const {
    if (user.empty()) return {};
    return {"/usr/bin/setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups"};
  }
  // Sends `payload` to follower and waits until follower's pipeline has written it down:
  // proof that its `recv --follow` holds the inbox.
  void await_follower_gets(const std::string& payload) const {
    const std::string send = std::string(sluice::test::sluice_path()) + " --dir " + bus().string() +
                             " send test follower task " + payload;
    REQUIRE(shell(send, user) == 0);
    REQUIRE(eventually([&] { return d.read("got.jsonl").find(payload) != std::string::npos; }));
  }
};

}  // namespace

TEST_CASE("after SIGTERM no agent process and no bus file remains") {
  temp_dir d;
  d.write("m.toml", sleepers);
  const auto bus = d.path() / "bus";
  launch_run run(d.path() / "m.toml", bus);
  const auto pids = await_agents(d);
  CHECK(fs::exists(bus / "a-1.inbox"));
  CHECK(fs::exists(bus / "a-2.inbox"));
  CHECK(fs::exists(bus / "bus.ctl"));
  REQUIRE(run.signal(SIGTERM));
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->success());  // ended by our SIGTERM: clean
  for (pid_t p : pids) CHECK(eventually([&] { return process_gone(p); }));
  const bool bus_gone = !fs::exists(bus) || fs::is_empty(bus);
  CHECK(bus_gone);
  CHECK_THAT(run.output(), Catch::Contains("every agent ended cleanly"));
}

TEST_CASE("with --keep the inboxes stay after launch stops") {
  temp_dir d;
  d.write("m.toml", sleepers);
  const auto bus = d.path() / "bus";
  launch_run run(d.path() / "m.toml", bus, {"--keep"});
  const auto pids = await_agents(d);
  REQUIRE(run.signal(SIGINT));
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->success());
  for (pid_t p : pids) CHECK(eventually([&] { return process_gone(p); }));
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
  launch_run run(d.path() / "m.toml", d.path() / "bus", {"--grace", "300ms"});
  REQUIRE(eventually([&] { return pid_file_ready(d, "stubborn.pid"); }));
  const pid_t pid = pids_in(d, "stubborn.pid").at(0);
  REQUIRE(run.signal(SIGTERM));
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->exited);
  CHECK(st->code == 1);
  CHECK(eventually([&] { return process_gone(pid); }));
  CHECK_THAT(run.output(), Catch::Contains("sending SIGKILL"));
}

TEST_CASE(
    "a crashing agent is restarted per policy with its count of restarts in SLUICE_RESTARTS and "
    "given up after max_restarts") {
  temp_dir d;
  d.write("m.toml", R"(
[[agent]]
name = "crasher"
command = ["sh", "-c", "echo run $SLUICE_RESTARTS >> runs.log; exit 3"]
restart = "on-failure"
max_restarts = 2
restart_backoff = "10ms"
)");
  launch_run run(d.path() / "m.toml", d.path() / "bus");
  const auto st = run.wait();  // every agent is down for good: launch ends by itself
  REQUIRE(st);
  CHECK(st->code == 1);
  CHECK(d.read("runs.log") == "run 0\nrun 1\nrun 2\n");
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
  launch_run run(d.path() / "m.toml", d.path() / "bus");
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->success());
  CHECK_THAT(run.output(), Catch::Contains("job     | job done"));
  CHECK_THAT(run.output(), Catch::Contains("every job has finished"));
  if (pid_file_ready(d, "service.pid"))
    CHECK(eventually([&] { return process_gone(pids_in(d, "service.pid").at(0)); }));
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
  const auto bus = d.path() / "bus";
  launch_run run(d.path() / "m.toml", bus);
  const auto st = run.wait();
  REQUIRE(st);
  CHECK(st->code == 65);
  CHECK_THAT(
      run.output(),
      Catch::Contains("m.toml:7: agent 'second'.command: './not-there' is not an executable file"));
  CHECK_FALSE(fs::exists(d.path() / "spawned"));
  CHECK_FALSE(fs::exists(bus));

  d.write("m.toml", "[[agent]]\nname = \"x\"\ncommand = [\"sh\"]\nreplica = 2\n");
  launch_run again(d.path() / "m.toml", bus);
  const auto st2 = again.wait();
  REQUIRE(st2);
  CHECK(st2->code == 65);
  CHECK_THAT(again.output(), Catch::Contains("m.toml:4: agent[0].replica: unknown key"));
  CHECK_FALSE(fs::exists(bus));
}

namespace {

// SIGKILLs a launch whose agents fork grandchildren of every kind, checks that every
// descendant is gone, and that the same manifest then launches again (no leftover
// `recv --follow` holding an inbox).
void kill_launch_then_launch_again(const family_launch& f) {
  const temp_dir& d = f.d;
  d.write("m.toml", family_manifest);
  d.write("family.sh", family_script);
  d.write("follower.sh", follower_script);
  std::set<pid_t> all;
  {
    launch_run run(d.path() / "m.toml", f.bus(), {}, {}, f.wrapper());
    REQUIRE(eventually([&] { return pid_file_ready(d, "family.pids"); }));
    f.await_follower_gets("first");
    all = descendants_of(run.pid());
    const auto family = pids_in(d, "family.pids");
    REQUIRE(family.size() == 4);
    all.insert(family.begin(), family.end());  // unguarded, the orphan would be init's child
    INFO(run.output());
    REQUIRE(all.size() >= 7);  // at least two agents, three sleeps, recv and the loop's subshell

    REQUIRE(::kill(run.pid(), SIGKILL) == 0);
    const auto st = run.wait();
    REQUIRE(st);
    CHECK(st->signal == SIGKILL);
    for (pid_t p : all) {
      INFO("pid " << p);
      CHECK(eventually([&] { return process_gone(p); }, 10s));
    }
  }
  for (pid_t p : all)
    if (!process_gone(p)) ::kill(p, SIGKILL);  // a failed check must not leak them

  fs::remove(d.path() / "family.pids");
  launch_run again(d.path() / "m.toml", f.bus(), {}, {}, f.wrapper());
  REQUIRE(eventually([&] { return pid_file_ready(d, "family.pids"); }));
  f.await_follower_gets("second");
  auto second = descendants_of(again.pid());
  const auto family = pids_in(d, "family.pids");
  second.insert(family.begin(), family.end());
  REQUIRE(again.signal(SIGTERM));
  const auto st = again.wait();
  REQUIRE(st);
  INFO(again.output());
  CHECK(st->success());
  CHECK_THAT(again.output(), !Catch::Contains("already has a consumer"));
  for (pid_t p : second) CHECK(eventually([&] { return process_gone(p); }, 10s));
  for (pid_t p : second)
    if (!process_gone(p)) ::kill(p, SIGKILL);
}

}  // namespace

TEST_CASE(
    "kill -9 of launch kills every descendant of its agents, and the manifest launches again") {
  temp_dir d;
  kill_launch_then_launch_again({d, ""});
}

TEST_CASE("kill -9 of a launch run by an unprivileged user kills every descendant too") {
  if (::geteuid() != 0) SLUICE_SKIP("needs root to run launch as user nobody (setpriv)");
  temp_dir d;
  REQUIRE(::chown(d.path().c_str(), 65534, 65534) == 0);  // nobody:nogroup
  kill_launch_then_launch_again({d, "nobody"});
}

TEST_CASE("after SIGTERM no descendant of an agent remains, setsid or not") {
  temp_dir d;
  d.write("m.toml", family_manifest);
  d.write("family.sh", family_script);
  d.write("follower.sh", follower_script);
  launch_run run(d.path() / "m.toml", d.path() / "bus");
  REQUIRE(eventually([&] { return pid_file_ready(d, "family.pids"); }));
  const family_launch f{d, ""};
  f.await_follower_gets("hello");
  auto all = descendants_of(run.pid());
  const auto family = pids_in(d, "family.pids");
  all.insert(family.begin(), family.end());
  REQUIRE(run.signal(SIGTERM));
  const auto st = run.wait();
  REQUIRE(st);
  INFO(run.output());
  CHECK(st->success());
  for (pid_t p : all) {
    INFO("pid " << p);
    CHECK(eventually([&] { return process_gone(p); }, 10s));
  }
  for (pid_t p : all)
    if (!process_gone(p)) ::kill(p, SIGKILL);
  CHECK_THAT(run.output(), Catch::Contains("every agent ended cleanly"));
}
