// The `sluice` executable: one-shot verbs, starting in about a millisecond. Its verbs are
// listed in cli/app.cpp; verbs that run an actor system are in their sluice-<feature>
// executables (cli/actor_main.cpp, runtime/cli/actor_verbs.hpp).
#include "cli/app.hpp"

int main(int argc, char** argv) {
  return sluice::cli::run_sluice(argc, argv);
}
