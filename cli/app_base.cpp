#include <CLI/CLI.hpp>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <exception>

#include "cli/app.hpp"
#include "cli/usage.hpp"
#include "inbox/files/std_fds.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/logging.hpp"

namespace sluice::cli {

std::unique_ptr<CLI::App> make_base_app(cli_state& state) {
  auto app = std::make_unique<CLI::App>("sluice: bounded shared-memory inboxes for local agents",
                                        "sluice");
  app->require_subcommand(1);
  app->fallthrough();  // global flags may follow the verb: `sluice recv a --dir /tmp/bus`
  app->footer(exit_code_help);
  app->set_version_flag("--version", "sluice " SLUICE_VERSION);
  // Either flag beats both variables (runtime/bus_dir.hpp).
  auto* bus = app->add_option("--bus", state.globals.bus,
                              "bus name: /dev/shm/sluice/NAME (else env SLUICE_DIR, SLUICE_BUS, "
                              "'default')");
  app->add_option("--dir", state.globals.dir, "bus directory (else env SLUICE_DIR)")->excludes(bus);
  app->add_flag("--group", state.globals.group,
                "share the bus with your group: create it setgid 02770 in your effective group "
                "(sg GROUP) and inboxes 0660; use a group bus and its members' inboxes");
  return app;
}

std::vector<char*> help_as_flag(int argc, char** argv) {
  std::vector<char*> out(argv, argv + argc);
  if (argc < 2 || std::string_view(argv[1]) != "help") return out;
  static char help_flag[] = "--help";
  out.erase(out.begin() + 1);         // "help"
  if (out.size() > 2) out.resize(2);  // the verb asked about; anything after it is ignored
  out.push_back(help_flag);
  return out;
}

namespace {

// "--max" -> "MAX", "from" -> "FROM", "--load-source" -> "LOAD_SOURCE".
std::string metavar(std::string name) {
  while (!name.empty() && name.front() == '-') name.erase(name.begin());
  for (auto& c : name)
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// Help a person reads without the parser's vocabulary: a value is named after its option
// ("--max MAX"), not its C++ type or validator ("TEXT", "UINT:POSITIVE"); every verb's help
// ends with the global flags, and only `sluice --help` lists the exit codes.
void plain_help(CLI::App& app) {
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    for (auto* opt : sub->get_options()) {
      if (opt->get_items_expected_max() == 0) continue;  // a flag takes no value
      // A positional's name already says what it is; an option's value is named after it.
      opt->type_name(opt->get_positional() || opt->get_lnames().empty()
                         ? std::string()
                         : metavar(opt->get_lnames().front()));
    }
    sub->footer(
        "Global flags (before or after the verb): --bus NAME (SLUICE_BUS), --dir PATH "
        "(SLUICE_DIR), --group. Exit codes: sluice --help.");
  }
}

}  // namespace

int run_app(CLI::App& app, cli_state& state, int argc, char** argv) {
  plain_help(app);
  // Before anything is opened: a closed stdout must not become an inbox (inbox/std_fds.hpp).
  if (!inbox::ensure_std_fds_open()) return exit_code::io_error;
  state.argv = argv;
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
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
  if (state.long_running) sluice::runtime::log_timestamps(true);
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

int run_feature(int argc, char** argv, add_verbs_fn add_feature_verbs) {
  cli_state state;
  state.long_running = true;
  const auto app = make_base_app(state);
  add_feature_verbs(*app, state);
  auto args = help_as_flag(argc, argv);
  args.push_back(nullptr);
  return run_app(*app, state, static_cast<int>(args.size()) - 1, args.data());
}

}  // namespace sluice::cli
