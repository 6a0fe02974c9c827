// The main of every sluice-<feature> executable (sluice-launch, sluice-monitors, ...): the verbs
// of one feature that run a CAF actor system. People do not call these; `sluice <verb>` execs
// the verb's executable with the same argv (runtime/cli/forward.hpp), so help and errors say
// "sluice". Compiled once and linked into each; the feature's verb file, linked beside it,
// defines add_feature_verbs.
#include "cli/app.hpp"
#include "runtime/cli/verb.hpp"

int main(int argc, char** argv) {
  return sluice::cli::run_feature(argc, argv, sluice::cli::add_feature_verbs);
}
