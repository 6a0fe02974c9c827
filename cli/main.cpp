// The sluice executable: CLI11 parses, each verb file registers itself, main runs the action.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/verb.hpp"

namespace sluice::cli {
void add_messaging_verbs(CLI::App& app, cli_state& state);
}

int main(int argc, char** argv) {
  using namespace sluice::cli;
  CLI::App app{"sluice: bounded shared-memory inboxes for local agents", "sluice"};
  app.require_subcommand(1);
  cli_state state;
  app.add_option("--bus", state.globals.bus, "bus name (env SLUICE_BUS, default 'default')");
  app.add_option("--dir", state.globals.dir, "bus directory (env SLUICE_DIR)");

  add_messaging_verbs(app, state);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sluice: %s (see sluice --help)\n", e.what());
    return exit_code::usage;
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
