// The main of every sluice-<feature> executable (sluice-launch, sluice-monitors, ...): the verbs
// of one feature that run a CAF actor system. People do not call these; `sluice <verb>` execs
// the verb's executable with the same argv (runtime/cli/forward.hpp), so help and errors say
// "sluice". Compiled once and linked into each; the feature's verb file, linked beside it,
// defines add_feature_verbs.
#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "runtime/cli/verb.hpp"

int main(int argc, char** argv) {
  using namespace sluice::cli;
  cli_state state;
  state.long_running = true;
  const auto app = make_base_app(state);
  add_feature_verbs(*app, state);
  auto args = help_as_flag(argc, argv);
  args.push_back(nullptr);
  return run_app(*app, state, static_cast<int>(args.size()) - 1, args.data());
}
