// Creating and removing inboxes and whole buses: init, init-system, cleanup, cleanup-system.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "runtime/bus_control.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/stdio.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/config.hpp"

namespace sluice::cli {

namespace {

struct init_args {
  std::vector<std::string> agents;
};

int run_init(const global_options& globals, const init_args& args) {
  // Every name is checked before the first inbox is created: a typo in the third name must
  // not leave the first two behind.
  for (const auto& agent : args.agents) require_agent_name(agent, "init");
  const auto dir = resolve_bus_dir(globals);
  runtime::config config(dir);
  for (const auto& agent : args.agents) open_or_create(dir, agent, config, globals);
  return exit_code::ok;
}

int run_init_system(const global_options& globals) {
  const auto dir = resolve_bus_dir(globals);
  runtime::config config(dir);
  const runtime::rate_policy initial{
      take(config.batch_size()),
      static_cast<std::uint32_t>(take(config.backpressure_wait()).count())};
  if (auto made = runtime::ensure_bus_dir(dir, sharing_of(globals)); !made) fail(made.err());
  take(runtime::bus_control::open_or_create(dir, initial));
  // Printed so a script can `export SLUICE_DIR=$(sluice init-system)`.
  if (!write_fully(dir.string() + "\n")) {
    throw cli_error{exit_code::io_error, "the bus is ready but stdout is closed: nothing to undo"};
  }
  return exit_code::ok;
}

int run_cleanup(const global_options& globals, const std::string& agent) {
  require_agent_name(agent, "cleanup");
  const auto dir = resolve_bus_dir(globals);
  auto box = open_existing(dir, agent, globals);
  if (!box) return exit_code::ok;
  // Holding the consumer lock while unlinking makes sure no live consumer loses its inbox
  // under its feet; a consumer that is running makes cleanup fail instead.
  auto lock = take(box->attach_consumer());
  std::error_code ec;
  std::filesystem::remove(box->path(), ec);
  if (ec) {
    throw cli_error{exit_code::os_error,
                    "cannot remove " + box->path().string() + ": " + ec.message()};
  }
  return exit_code::ok;
}

int run_cleanup_system(const global_options& globals) {
  const auto dir = resolve_bus_dir(globals);
  if (auto removed = runtime::remove_bus(dir); !removed) fail(removed.err());
  return exit_code::ok;
}

}  // namespace

void add_bus_verbs(CLI::App& app, cli_state& state) {
  auto init = std::make_shared<init_args>();
  auto* init_cmd =
      app.add_subcommand("init", "create inboxes (existing ones are kept as they are)");
  init_cmd->add_option("agent", init->agents, "agent names, [A-Za-z0-9_-]{1,64}")->required();
  init_cmd->callback(
      [&state, init] { state.action = [&state, init] { return run_init(state.globals, *init); }; });

  auto* system_cmd = app.add_subcommand(
      "init-system", "create the bus directory and bus.ctl; prints the bus directory");
  system_cmd->callback(
      [&state] { state.action = [&state] { return run_init_system(state.globals); }; });

  auto agent = std::make_shared<std::string>();
  auto* cleanup_cmd = app.add_subcommand(
      "cleanup", "remove an agent's inbox and its pending messages (fails while it is consuming)");
  cleanup_cmd->add_option("agent", *agent, "agent name")->required();
  cleanup_cmd->callback([&state, agent] {
    state.action = [&state, agent] { return run_cleanup(state.globals, *agent); };
  });

  auto* cleanup_system_cmd = app.add_subcommand(
      "cleanup-system",
      "remove every sluice file of the bus (refuses a directory that is not a sluice bus)");
  cleanup_system_cmd->callback(
      [&state] { state.action = [&state] { return run_cleanup_system(state.globals); }; });
}

}  // namespace sluice::cli
