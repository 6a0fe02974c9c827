// Resources outside the bus (docs/architecture.md, governance): `sluice acquire KEY`,
// `sluice release LEASE`, `sluice run KEY -- CMD...` against the [[limit]]s of the policy in
// force, and the documents' rate check `sluice check-rate ENTITY OPERATION --limit N
// --window D`. Answers are one JSON line:
//   {"allowed":..,"key":..,"limit":..,"remaining":..,"retry_after_ms":..,"lease":..}
// Exit 0 granted, 75 no room before the wait ran out, 69 refused (deny rule, hard quota, a
// cost the limit can never grant), 66 no such limit.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/leased_command.hpp"
#include "governance/acquire.hpp"
#include "governance/clock.hpp"
#include "governance/holder.hpp"
#include "governance/send_decision.hpp"
#include "governance/store.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/stdio.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/count.hpp"
#include "runtime/duration.hpp"

namespace sluice::cli {
namespace {

namespace gov = sluice::governance;
constexpr std::int64_t default_wait_ns = 5'000'000'000;

struct acquire_args {
  std::string key;
  std::string cost = "1";
  std::string agent;
  std::string wait;
  bool no_wait = false;
  std::vector<std::string> command;  // run
};

std::string agent_of(const acquire_args& a) {
  if (!a.agent.empty()) {
    require_agent_name(a.agent, "--as");
    return a.agent;
  }
  const char* env = std::getenv("SLUICE_AGENT");
  return env != nullptr && *env != 0 ? env : "cli";
}

gov::store open_policy_store(const global_options& globals) {
  const auto dir = resolve_bus_dir(globals);
  if (auto present = runtime::check_bus_dir(dir, sharing_of(globals)); !present) {
    if (present.err().code == inbox::errc::not_found)
      throw cli_error{exit_code::no_input,
                      "no policy in force on this bus: sluice policy apply FILE"};
    fail(present.err());
  }
  auto s = gov::store::open(dir);
  if (!s) {
    if (s.err().code == inbox::errc::not_found)
      throw cli_error{exit_code::no_input,
                      "no policy in force on this bus: sluice policy apply FILE"};
    fail(s.err());
  }
  return std::move(s.value());
}

nlohmann::ordered_json answer(const std::string& key, const gov::acquire_result& r) {
  nlohmann::ordered_json j;
  j["allowed"] = r.status == gov::acquire_status::granted;
  j["key"] = key;
  j["limit"] = r.limit;
  j["remaining"] = r.remaining;
  j["retry_after_ms"] = (r.retry_after_ns + 999'999) / 1'000'000;
  j["lease"] = r.lease.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.lease);
  if (r.status != gov::acquire_status::granted) j["reason"] = r.reason;
  if (r.soft_quota_exceeded) j["quota_exceeded"] = true;
  return j;
}

// Tries until granted, refused, or the wait runs out; sleeps what the limiter says, with up
// to 10% jitter so waiters that woke together do not retry together.
gov::acquire_result acquire_waiting(gov::store& s, const gov::acquire_request& q,
                                    std::int64_t wait_ns) {
  const std::int64_t deadline = gov::monotonic_ns() + wait_ns;
  std::minstd_rand rng(static_cast<unsigned>(::getpid() ^ gov::monotonic_ns()));
  for (;;) {
    auto p = s.current();
    if (!p) fail(p.err());
    if (p.value() == nullptr)
      throw cli_error{exit_code::no_input,
                      "no policy in force on this bus: sluice policy apply FILE"};
    const std::int64_t now = gov::monotonic_ns();
    auto r = gov::try_acquire(s.raw(), *p.value(), q, now, gov::realtime_ns());
    if (r.status != gov::acquire_status::wait) return r;
    if (r.lease_wait) {
      if (now >= deadline) return r;
      gov::wait_for_lease(s.raw(), *p.value(), q.key, r.lease_bell, deadline - now);
      continue;
    }
    if (now + r.retry_after_ns > deadline) return r;
    const std::int64_t jitter =
        r.retry_after_ns / 10 > 0
            ? static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(r.retry_after_ns / 10))
            : 0;
    std::this_thread::sleep_for(
        std::chrono::nanoseconds(std::min(r.retry_after_ns + jitter, deadline - now)));
  }
}

std::int64_t wait_of(const acquire_args& a) {
  if (a.no_wait) return 0;
  if (a.wait.empty()) return default_wait_ns;
  return take(runtime::parse_duration(a.wait, "--wait")).count();
}

std::uint64_t cost_of(const acquire_args& a) {
  return take(runtime::parse_count(a.cost, "--cost", 1, (1ull << 40)));
}

[[noreturn]] void refuse(const std::string& key, const gov::acquire_result& r) {
  print(answer(key, r).dump() + "\n");
  switch (r.status) {
    case gov::acquire_status::wait:
      throw cli_error{exit_code::temp_fail,
                      key + ": " + r.reason + "; retry in " +
                          std::to_string((r.retry_after_ns + 999'999) / 1'000'000) + " ms"};
    case gov::acquire_status::unknown:
      throw cli_error{exit_code::no_input, r.reason + " (sluice policy show)"};
    default:
      throw cli_error{exit_code::unavailable, key + " refused: " + r.reason};
  }
}

gov::acquire_result acquire_for(const global_options& globals, gov::store& s, const acquire_args& a,
                                pid_t holder) {
  (void)globals;
  gov::acquire_request q;
  q.key = a.key;
  q.cost = cost_of(a);
  q.agent = agent_of(a);
  const auto word = gov::holder_word(holder);
  if (!word)
    throw cli_error{exit_code::software, "cannot read /proc for the lease holder's start time"};
  q.holder = *word;
  auto r = acquire_waiting(s, q, wait_of(a));
  if (r.status != gov::acquire_status::granted) refuse(a.key, r);
  gov::record_cost(s.raw(), q.agent, a.key, q.cost, 0, gov::realtime_ns());
  if (r.delay_ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(r.delay_ns));
  return r;
}

// The lease of `sluice acquire` is held by the process that called it (the shell script),
// so it comes back when that process ends without releasing it.
int run_acquire(const global_options& globals, const acquire_args& a) {
  auto s = open_policy_store(globals);
  const auto r = acquire_for(globals, s, a, ::getppid());
  print(answer(a.key, r).dump() + "\n");
  return exit_code::ok;
}

int run_release(const global_options& globals, const std::string& lease) {
  auto s = open_policy_store(globals);
  auto p = s.current();
  if (!p) fail(p.err());
  if (p.value() == nullptr || !gov::release_lease(s.raw(), *p.value(), lease))
    throw cli_error{exit_code::no_input,
                    "lease " + quote(lease) +
                        " is not held (released already, or its holder died and it was reclaimed)"};
  return exit_code::ok;
}

int run_run(const global_options& globals, const acquire_args& a) {
  if (a.command.empty()) throw cli_error{exit_code::usage, "run needs a command after --"};
  auto s = open_policy_store(globals);
  const auto r = acquire_for(globals, s, a, ::getpid());
  const std::int64_t started = gov::monotonic_ns();
  const auto ran = run_leased_command(a.command);
  const auto duration = static_cast<std::uint64_t>(gov::monotonic_ns() - started);
  gov::record_cost(s.raw(), agent_of(a), a.key, 0, duration, gov::realtime_ns(), 0);
  if (!r.lease.empty()) {
    auto p = s.current();
    if (p && p.value() != nullptr) gov::release_lease(s.raw(), *p.value(), r.lease);
  }
  if (ran.spawn_errno != 0)
    throw cli_error{ran.exit_code,
                    "cannot run " + quote(a.command[0]) + ": " + std::strerror(ran.spawn_errno)};
  return ran.exit_code;
}

struct check_rate_args {
  std::string entity;
  std::string operation;
  std::string limit;
  std::string window;
};

int run_check_rate(const global_options& globals, const check_rate_args& a) {
  if (a.entity.empty() || a.entity.size() > 64 || a.operation.empty() || a.operation.size() > 64)
    throw cli_error{exit_code::bad_input, "ENTITY and OPERATION must be 1-64 characters"};
  const auto limit = take(runtime::parse_count(a.limit, "--limit", 1, gov::max_sliding_count));
  const auto window = take(runtime::parse_duration(a.window, "--window"));
  gov::limiter_spec spec{gov::algorithm::sliding_window, limit, window.count(), limit};
  if (auto why = gov::validate(spec))
    throw cli_error{exit_code::bad_input, "--window: " + std::string(*why)};
  const auto dir = resolve_bus_dir(globals);
  if (auto made = runtime::ensure_bus_dir(dir, sharing_of(globals)); !made) fail(made.err());
  auto s = gov::store::open_or_create(dir);
  if (!s) fail(s.err());
  auto& state = s.value().raw();
  const std::string key = a.entity + ":" + a.operation;
  const std::uint64_t cell_key = gov::hash_name(key, gov::fingerprint(spec, gov::scope::rule));
  auto* word = gov::cell_word(state, cell_key);
  if (word == nullptr)
    throw cli_error{exit_code::temp_fail,
                    "every check-rate cell of policy.ctl is taken: nothing counted; retry later"};
  const auto d = gov::take(*word, spec, gov::monotonic_ns(), 1);
  nlohmann::ordered_json j;
  j["allowed"] = d.allowed;
  j["key"] = key;
  j["limit"] = limit;
  j["remaining"] = d.remaining;
  j["retry_after_ms"] = (d.retry_after_ns + 999'999) / 1'000'000;
  j["lease"] = nullptr;
  if (!d.allowed) j["error"] = "rate_limit_exceeded";
  (d.allowed ? state.ctl.check_rate_allowed : state.ctl.check_rate_denied)
      .fetch_add(1, std::memory_order_relaxed);
  print(j.dump() + "\n");
  return d.allowed ? exit_code::ok : exit_code::temp_fail;
}

void add_acquire_options(CLI::App* c, acquire_args& a) {
  c->add_option("key", a.key, "limit name ([[limit]] of the policy in force)")->required();
  c->add_option("--cost", a.cost, "units this call costs (default 1), e.g. LLM tokens");
  c->add_option("--as", a.agent,
                "agent the cost is attributed to (default $SLUICE_AGENT, else cli)");
  auto* w = c->add_option("--wait", a.wait, "wait at most DURATION for room (default 5s)");
  c->add_flag("--no-wait", a.no_wait, "answer at once (exit 75 when there is no room)")
      ->excludes(w);
}

}  // namespace

void add_acquire_verbs(CLI::App& app, cli_state& state) {
  {
    auto a = std::make_shared<acquire_args>();
    auto* c = app.add_subcommand(
        "acquire", "take a permit of a named limit (rate, cost, quota, lease); prints JSON");
    add_acquire_options(c, *a);
    c->callback(
        [&state, a] { state.action = [&state, a] { return run_acquire(state.globals, *a); }; });
  }
  {
    auto lease = std::make_shared<std::string>();
    auto* c = app.add_subcommand("release", "give back a lease that acquire printed");
    c->add_option("lease", *lease, "the lease, as acquire printed it")->required();
    c->callback([&state, lease] {
      state.action = [&state, lease] { return run_release(state.globals, *lease); };
    });
  }
  {
    auto a = std::make_shared<acquire_args>();
    auto* c = app.add_subcommand(
        "run", "acquire KEY, run the command, release; exits with the command's code");
    add_acquire_options(c, *a);
    c->add_option("command", a->command, "-- then the command and its arguments")->required();
    c->callback([&state, a] { state.action = [&state, a] { return run_run(state.globals, *a); }; });
  }
  {
    auto a = std::make_shared<check_rate_args>();
    auto* c = app.add_subcommand(
        "check-rate",
        "count one OPERATION of ENTITY against N per window (sliding window); prints JSON");
    c->add_option("entity", a->entity, "who (1-64 characters)")->required();
    c->add_option("operation", a->operation, "what (1-64 characters)")->required();
    c->add_option("--limit", a->limit, "at most N operations per window")->required();
    c->add_option("--window", a->window, "window length, e.g. 1m")->required();
    c->callback(
        [&state, a] { state.action = [&state, a] { return run_check_rate(state.globals, *a); }; });
  }
}

}  // namespace sluice::cli
