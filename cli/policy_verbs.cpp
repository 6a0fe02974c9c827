// The governance verbs that read or change the policy in force (docs/architecture.md,
// governance): `sluice policy check|apply|show`, `sluice limits [reset NAME]`, `sluice quota`
// and `sluice cost`. The policy lives in policy.ctl in the bus directory (governance/store.hpp).
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "governance/clock.hpp"
#include "governance/policy_file.hpp"
#include "governance/report.hpp"
#include "governance/store.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/stdio.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/plural.hpp"

namespace sluice::cli {
namespace {

namespace gov = sluice::governance;

gov::policy checked_policy(const std::string& file) {
  auto parsed = gov::load_policy(file);
  if (!parsed.value) {
    std::string all;
    for (const auto& e : parsed.errors) all += (all.empty() ? "" : "\n") + e;
    throw cli_error{exit_code::bad_input, all};
  }
  return std::move(*parsed.value);
}

// The store of an existing bus, or nullopt when no policy was ever applied there.
std::optional<gov::store> open_store(const global_options& globals) {
  const auto dir = resolve_bus_dir(globals);
  if (auto present = runtime::check_bus_dir(dir, sharing_of(globals)); !present) {
    if (present.err().code == inbox::errc::not_found) return std::nullopt;
    fail(present.err());
  }
  auto s = gov::store::open(dir);
  if (!s) {
    if (s.err().code == inbox::errc::not_found) return std::nullopt;
    fail(s.err());
  }
  return std::move(s.value());
}

const gov::compiled_policy& in_force(gov::store& s) {
  auto p = s.current();
  if (!p) fail(p.err());
  if (p.value() == nullptr)
    throw cli_error{exit_code::no_input,
                    "no policy in force on this bus: sluice policy apply FILE"};
  return *p.value();
}

std::string pretty(const nlohmann::ordered_json& j) {
  return j.dump(2) + "\n";
}

int run_check(const std::string& file) {
  const auto p = checked_policy(file);
  print(file + ": ok, " + runtime::plural(p.rules.size(), "rule") + ", " +
        runtime::plural(p.limits.size(), "limit") + "\n");
  return exit_code::ok;
}

int run_apply(const global_options& globals, const std::string& file) {
  const auto p = checked_policy(file);
  const auto dir = resolve_bus_dir(globals);
  if (auto made = runtime::ensure_bus_dir(dir, sharing_of(globals)); !made) fail(made.err());
  auto s = gov::store::open_or_create(dir);
  if (!s) fail(s.err());
  auto generation = s.value().apply(p, std::filesystem::absolute(file).string());
  if (!generation) fail(generation.err());
  print("applied " + file + " as policy version " + std::to_string(generation.value()) + " (" +
        runtime::plural(p.rules.size(), "rule") + ", " + runtime::plural(p.limits.size(), "limit") +
        "); every sender obeys it from its next send\n");
  return exit_code::ok;
}

int run_show(const global_options& globals) {
  auto s = open_store(globals);
  if (!s) {
    print("no policy in force (sluice policy apply FILE)\n");
    return exit_code::ok;
  }
  auto p = s->current();
  if (!p) fail(p.err());
  if (p.value() == nullptr) {
    print("no policy in force (sluice policy apply FILE)\n");
    return exit_code::ok;
  }
  print(pretty(gov::policy_report(*p.value())));
  return exit_code::ok;
}

int run_limits(const global_options& globals) {
  auto s = open_store(globals);
  if (!s)
    throw cli_error{exit_code::no_input,
                    "no policy in force on this bus: sluice policy apply FILE"};
  const auto& p = in_force(*s);
  print(pretty(gov::limits_report(s->raw(), p, gov::monotonic_ns(), gov::realtime_ns())));
  return exit_code::ok;
}

int run_reset(const global_options& globals, const std::string& name) {
  auto s = open_store(globals);
  if (!s)
    throw cli_error{exit_code::no_input,
                    "no policy in force on this bus: sluice policy apply FILE"};
  const auto& p = in_force(*s);
  if (!gov::reset_named(s->raw(), p, name))
    throw cli_error{exit_code::no_input, "no rule or limit named " + quote(name) +
                                             " in the policy in force (sluice policy show)"};
  print("reset " + name + "\n");
  return exit_code::ok;
}

int run_quota(const global_options& globals) {
  auto s = open_store(globals);
  if (!s)
    throw cli_error{exit_code::no_input,
                    "no policy in force on this bus: sluice policy apply FILE"};
  const auto& p = in_force(*s);
  print(pretty(gov::quota_report(s->raw(), p, gov::realtime_ns())));
  return exit_code::ok;
}

struct cost_args {
  std::string by = "agent";
  std::string period = "day";
  bool csv = false;
};

int run_cost(const global_options& globals, const cost_args& a) {
  gov::cost_grouping by = gov::cost_grouping::agent;
  if (a.by == "key")
    by = gov::cost_grouping::key;
  else if (a.by == "both")
    by = gov::cost_grouping::both;
  else if (a.by != "agent")
    throw cli_error{exit_code::bad_input,
                    "invalid --by " + quote(a.by) + ": use agent, key or both"};
  gov::quota_period period = gov::quota_period::day;
  if (a.period == "hour")
    period = gov::quota_period::hour;
  else if (a.period == "month")
    period = gov::quota_period::month;
  else if (a.period != "day")
    throw cli_error{exit_code::bad_input,
                    "invalid --period " + quote(a.period) + ": use hour, day or month"};
  auto s = open_store(globals);
  const auto rows = s ? gov::cost_report(s->raw(), by, period, gov::realtime_ns())
                      : nlohmann::ordered_json::array();
  if (!a.csv) {
    print(pretty(rows));
    return exit_code::ok;
  }
  std::ostringstream out;
  const bool agent = by != gov::cost_grouping::key;
  const bool key = by != gov::cost_grouping::agent;
  out << (agent ? "agent," : "") << (key ? "key," : "")
      << "period,cost,cost_total,calls,run_seconds\n";
  for (const auto& r : rows) {
    if (agent) out << r["agent"].get<std::string>() << ',';
    if (key) out << r["key"].get<std::string>() << ',';
    out << r["period"].get<std::string>() << ',' << r["cost"].get<std::uint64_t>() << ','
        << r["cost_total"].get<std::uint64_t>() << ',' << r["calls"].get<std::uint64_t>() << ','
        << r["run_seconds"].get<double>() << '\n';
  }
  print(out.str());
  return exit_code::ok;
}

}  // namespace

void add_policy_verbs(CLI::App& app, cli_state& state) {
  auto* policy =
      app.add_subcommand("policy", "check, apply or show the bus policy every sender obeys");
  policy->require_subcommand(1);
  {
    auto file = std::make_shared<std::string>();
    auto* c = policy->add_subcommand("check",
                                     "validate a policy file (errors as FILE:LINE: what to fix)");
    c->add_option("file", *file, "policy file (TOML)")->required();
    c->callback([&state, file] { state.action = [file] { return run_check(*file); }; });
  }
  {
    auto file = std::make_shared<std::string>();
    auto* c = policy->add_subcommand(
        "apply", "compile a policy file into the bus (policy.ctl) as a new version");
    c->add_option("file", *file, "policy file (TOML)")->required();
    c->callback([&state, file] {
      state.action = [&state, file] { return run_apply(state.globals, *file); };
    });
  }
  {
    auto* c = policy->add_subcommand("show", "print the policy in force (JSON)");
    c->callback([&state] { state.action = [&state] { return run_show(state.globals); }; });
  }
  auto* limits = app.add_subcommand(
      "limits", "every rule and limit of the policy in force, with its state and counters (JSON)");
  {
    auto name = std::make_shared<std::string>();
    auto* c = limits->add_subcommand("reset",
                                     "zero a rule's or limit's limiter, counters and quota usage");
    c->add_option("name", *name, "rule or limit name")->required();
    c->callback([&state, name] {
      state.action = [&state, name] { return run_reset(state.globals, *name); };
    });
  }
  limits->callback([&state, limits] {
    if (limits->get_subcommands().empty())
      state.action = [&state] { return run_limits(state.globals); };
  });
  auto* quota = app.add_subcommand(
      "quota", "usage of every quota: used, left, peak, depletion estimate (JSON)");
  quota->callback([&state] { state.action = [&state] { return run_quota(state.globals); }; });
  auto a = std::make_shared<cost_args>();
  auto* cost = app.add_subcommand(
      "cost", "cost recorded by acquire and run, per agent or key (JSON or CSV)");
  cost->add_option("--by", a->by, "agent (default), key or both");
  cost->add_option("--period", a->period, "hour, day (default) or month, calendar periods in UTC");
  cost->add_flag("--csv", a->csv, "CSV instead of JSON");
  cost->callback(
      [&state, a] { state.action = [&state, a] { return run_cost(state.globals, *a); }; });
}

}  // namespace sluice::cli
