#pragma once
// The command lines of the two executables, built the same way: make_base_app gives the
// global flags and the footer, each executable adds its verbs, run_app parses and runs.
//   sluice         make_app(): every one-shot verb, plus a forwarder per actor verb
//   sluice-<feature>  cli/actor_main.cpp: the verbs of one feature that run a CAF actor system
#include <memory>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace sluice::cli {

struct cli_state;

// "sluice" with --bus, --dir, --group (before or after the verb), --version, the exit codes.
std::unique_ptr<CLI::App> make_base_app(cli_state& state);

// The `sluice` command line. Parsing it only fills `state` (state.action is what would run),
// so the argv fuzzer parses it without touching a bus.
// Building every verb's options is two thirds of a one-shot call's instructions (0.94 M of
// 1.41 M for `sluice count`), so when first_arg (argv[1]) names a verb, only the verbs
// defined with it are built; anything else (--help, a global flag first, an unknown verb)
// builds them all.
std::unique_ptr<CLI::App> make_app(cli_state& state, std::string_view first_arg = {});

// Every verb name and alias make_app knows how to build on its own (for the test that keeps
// this list and the verbs in step).
std::vector<std::string_view> grouped_verbs();

// `sluice help` is `sluice --help`, and `sluice help VERB` is `sluice VERB --help`, as git has
// it; any other argv is returned unchanged. The strings stay argv's.
std::vector<char*> help_as_flag(int argc, char** argv);

// Parses argv into `state`, then runs the chosen verb's action; returns the exit code.
// Every error is one line on stderr (usage 64, or the verb's own code).
int run_app(CLI::App& app, cli_state& state, int argc, char** argv);

// The mains, here rather than in main.cpp and actor_main.cpp: each file that includes CLI11 2.1
// compiles its validators and App again (about 6 s at -O2), and these are compiled once with
// the verbs. run_sluice is `sluice`; run_feature is a sluice-<feature> executable, whose verb
// file defines add_feature_verbs (passed in, so `sluice`, which links this code too, needs none).
int run_sluice(int argc, char** argv);
using add_verbs_fn = void (*)(CLI::App&, cli_state&);
int run_feature(int argc, char** argv, add_verbs_fn add_feature_verbs);

}  // namespace sluice::cli
