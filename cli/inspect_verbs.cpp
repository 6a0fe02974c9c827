// Read-only verbs in the bash tool's output formats: count (alias get-size), check-capacity,
// get-utilization, get-stats. None of them creates anything: a missing inbox is an empty one.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "backpressure/circuit_breaker.hpp"
#include "runtime/bridge_status.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/stdio.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/inbox_stats.hpp"

namespace sluice::cli {

namespace {

// The seed's integer percent of the regular capacity, rounded down (0..100).
std::uint64_t utilization(const inbox::stats& s) {
  return static_cast<std::uint64_t>(runtime::utilization_percent(s));
}

int run_count(const global_options& globals, const std::string& agent) {
  require_agent_name(agent, "count");
  const auto box = open_existing(resolve_bus_dir(globals), agent, globals);
  print(std::to_string(box ? box->size() : 0) + "\n");
  return exit_code::ok;
}

int run_check_capacity(const global_options& globals, const std::string& agent) {
  require_agent_name(agent, "check-capacity");
  const auto box = open_existing(resolve_bus_dir(globals), agent, globals);
  return box && box->full() ? exit_code::failure : exit_code::ok;
}

int run_utilization(const global_options& globals, const std::string& agent) {
  require_agent_name(agent, "get-utilization");
  const auto box = open_existing(resolve_bus_dir(globals), agent, globals);
  print(std::to_string(box ? utilization(box->snapshot()) : 0) + "\n");
  return exit_code::ok;
}

nlohmann::ordered_json stats_entry(const std::filesystem::path& dir, const std::string& agent,
                                   const global_options& globals) {
  nlohmann::ordered_json entry;
  entry["agent"] = agent;
  try {
    auto box = open_existing(dir, agent, globals);
    if (!box) {
      entry["error"] = "removed while listing";
      return entry;
    }
    const auto s = box->snapshot();
    for (std::size_t i = 0; i < runtime::inbox_stat_count; ++i) {
      const auto& row = runtime::inbox_stat_table[i];
      if ((row.shown & runtime::in_get_stats) != 0) entry[row.key] = runtime::json_value(row, s);
    }
    entry["breaker"] = backpressure::to_string(backpressure::inspect(box->breaker()).state);
    // The outbound inbox of a `sluice bridge` (bridge-<peer>) also shows its link.
    if (auto link = runtime::bridge_status_of_inbox(dir, agent))
      entry["bridge"] = nlohmann::ordered_json::parse(runtime::to_json(*link));
  } catch (const cli_error& e) {
    // One unreadable inbox must not hide the others: it is listed with its reason.
    spdlog::warn("{}", e.message);
    entry["error"] = e.message;
  }
  return entry;
}

int run_stats(const global_options& globals) {
  const auto dir = resolve_bus_dir(globals);
  auto stats = nlohmann::ordered_json::array();
  if (auto present = runtime::check_bus_dir(dir, sharing_of(globals)); !present) {
    if (present.err().code != inbox::errc::not_found) fail(present.err());
  } else {
    for (const auto& agent : runtime::list_agents(dir)) {
      stats.push_back(stats_entry(dir, agent, globals));
    }
  }
  print(stats.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return exit_code::ok;
}

// Registers `name <agent>` whose action is run(globals, agent).
CLI::App* agent_verb(CLI::App& app, cli_state& state, const char* name, const char* help,
                     int (*run)(const global_options&, const std::string&)) {
  auto agent = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("agent", *agent, "agent name")->required();
  cmd->callback([&state, agent, run] {
    state.action = [&state, agent, run] { return run(state.globals, *agent); };
  });
  return cmd;
}

}  // namespace

void add_inspect_verbs(CLI::App& app, cli_state& state) {
  agent_verb(app, state, "count", "print the number of pending messages", run_count)
      ->alias("get-size");
  agent_verb(app, state, "check-capacity",
             "exit 0 when the inbox has room (a missing inbox has room), 1 when it is full",
             run_check_capacity);
  agent_verb(app, state, "get-utilization",
             "print the regular messages pending as an integer percent of the capacity (0-100)",
             run_utilization);
  auto* stats_cmd = app.add_subcommand(
      "get-stats", "print a JSON array with every inbox's size, capacity, counters and breaker");
  stats_cmd->callback([&state] { state.action = [&state] { return run_stats(state.globals); }; });
}

}  // namespace sluice::cli
