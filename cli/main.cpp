// The `sluice` executable: one-shot verbs, starting in about a millisecond. Its verbs are
// listed in cli/app.cpp; verbs that run an actor system are in cli/actors_main.cpp.
#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "runtime/cli/verb.hpp"

int main(int argc, char** argv) {
  sluice::cli::cli_state state;
  const auto app = sluice::cli::make_app(state, argc > 1 ? argv[1] : "");
  return sluice::cli::run_app(*app, state, argc, argv);
}
