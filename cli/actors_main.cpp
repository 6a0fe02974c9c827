// The `sluice-actors` executable: the verbs that run a CAF actor system. People do not call
// it; `sluice <verb>` execs it with the same argv (cli/forward.hpp), so help and errors say
// "sluice". Every verb added here also needs its entry in cli/actor_verbs.hpp.
#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "runtime/cli/verb.hpp"

namespace sluice::cli {
void add_launch_verbs(CLI::App& app, cli_state& state);
void add_monitor_verbs(CLI::App& app, cli_state& state);
void add_loadtest_verbs(CLI::App& app, cli_state& state);
void add_bridge_verbs(CLI::App& app, cli_state& state);
}  // namespace sluice::cli

int main(int argc, char** argv) {
  using namespace sluice::cli;
  cli_state state;
  state.long_running = true;
  const auto app = make_base_app(state);
  add_launch_verbs(*app, state);
  add_monitor_verbs(*app, state);
  add_loadtest_verbs(*app, state);
  add_bridge_verbs(*app, state);
  auto args = help_as_flag(argc, argv);
  args.push_back(nullptr);
  return run_app(*app, state, static_cast<int>(args.size()) - 1, args.data());
}
