// The `sluice` executable: one-shot verbs, starting in about a millisecond. Its verbs are
// listed in cli/app.cpp; verbs that run an actor system are in their sluice-<feature>
// executables (cli/actor_main.cpp, runtime/cli/actor_verbs.hpp).
#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "runtime/cli/verb.hpp"

int main(int argc, char** argv) {
  auto args = sluice::cli::help_as_flag(argc, argv);
  args.push_back(nullptr);  // argv[argc] is NULL for anything that execs with it
  const int n = static_cast<int>(args.size()) - 1;
  sluice::cli::cli_state state;
  const auto app = sluice::cli::make_app(state, n > 1 ? args[1] : "");
  return sluice::cli::run_app(*app, state, n, args.data());
}
