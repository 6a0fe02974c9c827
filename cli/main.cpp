// The sluice executable: CLI11 parses, each verb file registers itself, main runs the action.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>

#include "cli/usage.hpp"
#include "cli/verb.hpp"
#include "runtime/logging.hpp"

namespace sluice::cli {
void add_bus_verbs(CLI::App& app, cli_state& state);
void add_send_verbs(CLI::App& app, cli_state& state);
void add_recv_verbs(CLI::App& app, cli_state& state);
void add_inspect_verbs(CLI::App& app, cli_state& state);
void add_launch_verbs(CLI::App& app, cli_state& state);
void add_monitor_verbs(CLI::App& app, cli_state& state);
void add_doctor_verbs(CLI::App& app, cli_state& state);
void add_loadtest_verbs(CLI::App& app, cli_state& state);
void add_top_verbs(CLI::App& app, cli_state& state);
void add_bridge_verbs(CLI::App& app, cli_state& state);
}

int main(int argc, char** argv) {
  using namespace sluice::cli;
  CLI::App app{"sluice: bounded shared-memory inboxes for local agents", "sluice"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the verb: `sluice recv a --dir /tmp/bus`
  app.footer(exit_code_help);
  cli_state state;
  app.add_option("--bus", state.globals.bus, "bus name (env SLUICE_BUS, default 'default')");
  app.add_option("--dir", state.globals.dir, "bus directory (env SLUICE_DIR)");
  app.add_flag("--group", state.globals.group,
               "share with the file's group: create inboxes 0660, open group members' inboxes");

  add_bus_verbs(app, state);
  add_send_verbs(app, state);
  add_recv_verbs(app, state);
  add_inspect_verbs(app, state);
  add_launch_verbs(app, state);
  add_monitor_verbs(app, state);
  add_doctor_verbs(app, state);
  add_loadtest_verbs(app, state);
  add_top_verbs(app, state);
  add_bridge_verbs(app, state);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sluice: %s\n", describe_usage_error(app, e, argc, argv).c_str());
    return exit_code::usage;
  }
  // A reader that closed the pipe must surface as EPIPE from write(2), which recv turns into
  // "not committed", instead of killing the process between write and commit.
  std::signal(SIGPIPE, SIG_IGN);
  if (auto logging = sluice::runtime::init_logging_from_env(); !logging) {
    std::fprintf(stderr, "sluice: %s\n", logging.err().message.c_str());
    return exit_code::bad_input;
  }
  try {
    return state.action ? state.action() : exit_code::ok;
  } catch (const cli_error& e) {
    std::fprintf(stderr, "sluice: %s\n", e.message.c_str());
    return e.code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice: internal error: %s\n", e.what());
    return exit_code::software;
  }
}
