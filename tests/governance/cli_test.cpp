// The governance verbs end to end, through the real sluice executable: policy check / apply,
// sends obeying the policy without flags, acquire / release / run / check-rate with their
// JSON and exit codes, and a SIGKILLed `sluice run` whose command dies with it and whose lease
// comes back.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <fstream>

#include "governance/store_layout.hpp"
#include "support/await.hpp"
#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace gov = sluice::governance;

namespace {

std::string write_policy(const bus_fixture& bus, const std::string& name, const std::string& text) {
  const auto path = (bus.root() / name).string();
  std::ofstream(path) << text;
  return path;
}

const char* const policy_text = R"([[rule]]
name = "workers-to-coordinator"
from = "worker-*"
to = "coordinator"
action = "limit"
rate = "3/h"
burst = 3

[[rule]]
name = "no-spam"
type = "spam"
action = "deny"

[[limit]]
name = "llm"
rate = "50/m"
burst = 10
concurrency = 2
quota = "1000/d"
quota_mode = "hard"

[[limit]]
name = "gpu"
concurrency = 1
)";

void apply(const bus_fixture& bus) {
  const auto r = bus.run({"policy", "apply", write_policy(bus, "p.toml", policy_text)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("policy check lists every mistake as FILE:LINE and exits 65, and a good file exits 0") {
  bus_fixture bus;
  const auto bad = write_policy(
      bus, "bad.toml", "[[rule]]\nname = \"x\"\naction = \"limit\"\nrate = \"5/fortnight\"\n");
  const auto r = bus.run({"policy", "check", bad});
  CHECK(r.exit_code == 65);
  CHECK(r.err.find(bad + ":4:") != std::string::npos);
  CHECK(bus.run({"policy", "check", write_policy(bus, "p.toml", policy_text)}).exit_code == 0);
  CHECK(bus.run({"policy", "apply", bad}).exit_code == 65);
  CHECK_FALSE(std::filesystem::exists(bus.dir() / "policy.ctl"));  // nothing half-applied
}

TEST_CASE("policy check and apply count rules and limits in words people read") {
  bus_fixture bus;
  const auto one =
      write_policy(bus, "one.toml", "[[rule]]\nname = \"x\"\ntype = \"spam\"\naction = \"deny\"\n");
  const auto checked = bus.run({"policy", "check", one});
  CHECK(checked.out == one + ": ok, 1 rule, 0 limits\n");
  const auto applied = bus.run({"policy", "apply", one});
  CHECK(applied.out.find("(1 rule, 0 limits)") != std::string::npos);
}

TEST_CASE("every send obeys the applied policy without flags, and limits counts each decision") {
  bus_fixture bus;
  apply(bus);
  for (int i = 0; i < 3; ++i)
    CHECK(bus.run({"send", "worker-1", "coordinator", "task", "{}", "--no-wait"}).exit_code == 0);
  const auto over = bus.run({"send", "worker-2", "coordinator", "task", "{}", "--no-wait"});
  CHECK(over.exit_code == 75);
  CHECK(is_one_line(over.err));
  CHECK(bus.run({"send", "other", "coordinator", "task", "{}", "--no-wait"}).exit_code == 0);
  CHECK(bus.run({"send", "a", "b", "spam", "x"}).exit_code == 69);
  CHECK(count_of(bus, "coordinator") == 4);
  const auto limits = parse_json(ok_out(bus, {"limits"}));
  const auto& rule = limits["rules"][0];
  CHECK(rule["matched"] == 4);
  CHECK(rule["allowed"] == 3);
  CHECK(rule["denied"] == 1);
  CHECK(rule["last_denied"] == "worker-2");
  CHECK(limits["rules"][1]["denied"] == 1);
  CHECK(bus.run({"limits", "reset", "workers-to-coordinator"}).exit_code == 0);
  CHECK(bus.run({"send", "worker-1", "coordinator", "task", "{}", "--no-wait"}).exit_code == 0);
}

TEST_CASE(
    "acquire prints the documented JSON and exits 0, 75 or 69, and release gives the lease back") {
  bus_fixture bus;
  CHECK(bus.run({"acquire", "llm"}).exit_code == 66);  // no policy yet
  apply(bus);
  const auto first =
      parse_json(ok_out(bus, {"acquire", "llm", "--cost", "100", "--as", "agent-1"}));
  CHECK(first["allowed"] == true);
  CHECK(first["key"] == "llm");
  CHECK(first["lease"].is_string());
  for (const char* field : {"limit", "remaining", "retry_after_ms"}) CHECK(first.contains(field));
  const auto second = parse_json(ok_out(bus, {"acquire", "llm", "--cost", "100"}));
  const auto full = bus.run({"acquire", "llm", "--no-wait"});
  CHECK(full.exit_code == 75);
  CHECK(parse_json(full.out)["allowed"] == false);
  CHECK(bus.run({"release", first["lease"].get<std::string>()}).exit_code == 0);
  CHECK(bus.run({"release", first["lease"].get<std::string>()}).exit_code == 66);
  const auto quota = bus.run({"acquire", "llm", "--cost", "900", "--no-wait"});
  CHECK(quota.exit_code == 69);  // 200 used of 1000/d: a hard quota refuses
  CHECK(bus.run({"acquire", "nope"}).exit_code == 66);
  CHECK(bus.run({"release", second["lease"].get<std::string>()}).exit_code == 0);
  const auto cost = parse_json(ok_out(bus, {"cost", "--by", "agent"}));
  REQUIRE(cost.size() == 2);
  CHECK(cost[0]["agent"] == "agent-1");
  CHECK(cost[0]["cost"] == 100);
  const auto q = parse_json(ok_out(bus, {"quota"}));
  CHECK(q[0]["used"] == 200);
  CHECK(q[0]["calendar"] == "UTC");
}

TEST_CASE("run exits with the command's code and releases its lease") {
  bus_fixture bus;
  apply(bus);
  CHECK(bus.run({"run", "gpu", "--as", "agent-2", "--", "sh", "-c", "exit 7"}).exit_code == 7);
  CHECK(bus.run({"run", "gpu", "--", "true"}).exit_code == 0);
  const auto limits = parse_json(ok_out(bus, {"limits"}));
  CHECK(limits["limits"][1]["holders"].empty());
  CHECK(limits["limits"][1]["released"] == 2);
}

namespace {

// `sluice run gpu` whose command writes its pid to `pid_file`, then sleeps with its output
// closed (so only the command's own end, not a pipe, can tell the test it stopped). With
// `on_term`, the command is a shell that runs it on SIGTERM.
process start_leased_sleep(const bus_fixture& bus, const std::string& pid_file,
                           const std::string& on_term = "") {
  const std::string publish =
      "echo $$ > " + pid_file + ".tmp && mv " + pid_file + ".tmp " + pid_file + "; ";
  const std::string script = on_term.empty() ? publish + "exec sleep 600 >/dev/null 2>&1"
                                             : "trap '" + on_term + "' TERM; " + publish +
                                                   "sleep 600 >/dev/null 2>&1 & wait";
  return bus.start({"run", "gpu", "--", "sh", "-c", script});
}

pid_t await_pid_file(const std::string& path) {
  pid_t pid = 0;
  REQUIRE(eventually([&] { return static_cast<bool>(std::ifstream(path) >> pid); }));
  return pid;
}

}  // namespace

TEST_CASE(
    "a SIGKILLed sluice run takes its command with it, and the lease comes back to the next "
    "acquire") {
  bus_fixture bus;
  apply(bus);
  const auto pid_file = (bus.root() / "command.pid").string();
  auto holder = start_leased_sleep(bus, pid_file);
  const pid_t command = await_pid_file(pid_file);
  CHECK(bus.run({"acquire", "gpu", "--no-wait"}).exit_code == 75);
  holder.signal(SIGKILL);
  CHECK(holder.finish().exit_code == 128 + SIGKILL);
  // Otherwise the next acquire's holder would run beside a command still using the lease.
  CHECK(eventually([&] { return process_gone(command); }));
  if (!process_gone(command)) ::kill(command, SIGKILL);
  const auto r = bus.run({"acquire", "gpu", "--no-wait"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(parse_json(ok_out(bus, {"limits"}))["limits"][1]["reclaimed"] == 1);
}

TEST_CASE(
    "a SIGTERM sent to sluice run reaches its command, whose exit code run returns after releasing "
    "the lease") {
  bus_fixture bus;
  apply(bus);
  const auto pid_file = (bus.root() / "command.pid").string();
  auto holder = start_leased_sleep(bus, pid_file, "kill $!; exit 3");
  const pid_t command = await_pid_file(pid_file);
  holder.signal(SIGTERM);
  const auto r = holder.finish();
  INFO(r.err);
  CHECK(r.exit_code == 3);
  if (!process_gone(command)) ::kill(command, SIGKILL);
  const auto limits = parse_json(ok_out(bus, {"limits"}));
  CHECK(limits["limits"][1]["holders"].empty());
  CHECK(limits["limits"][1]["released"] == 1);
  CHECK(limits["limits"][1]["reclaimed"] == 0);
}

TEST_CASE(
    "run of a command that does not exist exits 127 with one error line and releases the lease") {
  bus_fixture bus;
  apply(bus);
  const auto r = bus.run({"run", "gpu", "--", "/nonexistent/command"});
  CHECK(r.exit_code == 127);
  CHECK(r.err.find(R"(cannot run "/nonexistent/command")") != std::string::npos);
  CHECK(parse_json(ok_out(bus, {"limits"}))["limits"][1]["holders"].empty());
}

TEST_CASE("check-rate answers ok until the limit, then rate_limit_exceeded with exit 75") {
  bus_fixture bus;
  for (int i = 0; i < 3; ++i)
    CHECK(bus.run({"check-rate", "alice", "login", "--limit", "3", "--window", "1h"}).exit_code ==
          0);
  const auto r = bus.run({"check-rate", "alice", "login", "--limit", "3", "--window", "1h"});
  CHECK(r.exit_code == 75);
  const auto j = parse_json(r.out);
  CHECK(j["allowed"] == false);
  CHECK(j["error"] == "rate_limit_exceeded");
  CHECK(j["retry_after_ms"].get<std::int64_t>() > 0);
  CHECK(bus.run({"check-rate", "bob", "login", "--limit", "3", "--window", "1h"}).exit_code == 0);
}

TEST_CASE("doctor reports a damaged policy.ctl as a problem (exit 1) and an intact one as ok") {
  bus_fixture bus;
  apply(bus);
  const auto fine = bus.run({"doctor", "--json"});
  CHECK(fine.exit_code == 0);
  CHECK(parse_json(fine.out)["policy"]["state"] == "ok");
  CHECK(bus.run({"doctor"}).out.find("policy: version 1, ok") != std::string::npos);
  {
    // Garbage over the start of both policy buffers: whichever is in force no longer checks out.
    std::fstream f(bus.dir() / "policy.ctl", std::ios::in | std::ios::out | std::ios::binary);
    const std::string junk(64, '\xab');
    for (const std::size_t buffer : {0, 1}) {
      f.seekp(static_cast<std::streamoff>(offsetof(gov::layout::file, buffers) +
                                          buffer * sizeof(gov::layout::policy_buffer)));
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
  }
  const auto damaged = bus.run({"doctor", "--json"});
  CHECK(damaged.exit_code == 1);
  const auto j = parse_json(damaged.out);
  CHECK(j["policy"]["state"] == "problem");
  CHECK(j["healthy"] == false);
  CHECK(bus.run({"doctor"}).out.find("policy: problem: ") != std::string::npos);
  // Applying it again is the repair.
  apply(bus);
  CHECK(bus.run({"doctor"}).exit_code == 0);
}

TEST_CASE("cleanup-system removes policy.ctl with the rest of the bus") {
  bus_fixture bus;
  apply(bus);
  CHECK(bus.run({"send", "a", "b", "t", "x"}).exit_code == 0);
  ok_out(bus, {"cleanup-system"});
  CHECK_FALSE(std::filesystem::exists(bus.dir() / "policy.ctl"));
}

TEST_CASE("top shows a LIMITS section with every rule and limit of the policy") {
  bus_fixture bus;
  apply(bus);
  CHECK(bus.run({"send", "a", "b", "spam", "x"}).exit_code == 69);
  const auto out = ok_out(bus, {"top", "--once"});
  CHECK(out.find("LIMITS") != std::string::npos);
  CHECK(out.find("rule no-spam") != std::string::npos);
  CHECK(out.find("limit llm") != std::string::npos);
}

TEST_CASE("a demote rule sends in the lower lane, and a key rule governs acquires by agent") {
  bus_fixture bus;
  const auto file = write_policy(bus, "d.toml", R"([[rule]]
name = "bulk-low"
type = "bulk"
action = "demote"
demote_to = "low"

[[rule]]
name = "no-interns"
key = "llm"
from = "intern-*"
action = "deny"

[[limit]]
name = "llm"
concurrency = 4
)");
  REQUIRE(bus.run({"policy", "apply", file}).exit_code == 0);
  CHECK(bus.run({"send", "a", "b", "bulk", "x", "--priority", "high"}).exit_code == 0);
  const auto msgs = parse_json(ok_out(bus, {"peek", "b"}));
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0]["priority"] == "low");
  CHECK(bus.run({"acquire", "llm", "--as", "intern-1"}).exit_code == 69);
  CHECK(bus.run({"acquire", "llm", "--as", "senior-1"}).exit_code == 0);
}
