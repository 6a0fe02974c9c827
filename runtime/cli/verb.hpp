#pragma once
// How a verb plugs into the command line: each verb file defines one
// `void add_<name>_verbs(CLI::App&, cli_state&)`, listed in cli/app.cpp (one-shot verbs, the
// `sluice` executable), or, for the verbs that run an actor system, one
// `add_feature_verbs` per feature (below; runtime/cli/actor_verbs.hpp). A verb's CLI11 callback
// stores the action to run in state.action; run_app() runs it after parsing and exits with its
// code.
#include <functional>
#include <string>

#include "runtime/exit_codes.hpp"

namespace CLI {
class App;
}

namespace sluice::cli {

// Exit codes: the one table in runtime/exit_codes.hpp.
namespace exit_code = runtime::exit_code;

// The footer of `sluice --help`, so scripts can look the codes up where they use them.
inline constexpr const char* exit_code_help =
    "Exit codes: 0 ok, 1 the answer is no (check-capacity: full; doctor: problems; loadtest:\n"
    "messages lost; launch: an agent failed), 64 usage, 65 bad input (name, payload, value,\n"
    "corrupt inbox), 66 not found, 69 circuit open or a verb's sluice-<feature> executable\n"
    "missing, 70 internal error, 71 OS error (bus dir not creatable, no space), 74 I/O error\n"
    "(stdin unreadable, stdout closed: nothing was consumed), 75 backpressure exhausted or\n"
    "inbox busy, 77 permission (another user's file or directory, symlink).";

struct global_options {
  std::string bus;     // --bus / SLUICE_BUS
  std::string dir;     // --dir / SLUICE_DIR
  bool group = false;  // --group: inboxes 0660 and shared with the file's group
};

struct cli_state {
  global_options globals;
  std::function<int()> action;
  char** argv = nullptr;      // main's argv, which a forwarded verb hands on unchanged
  bool long_running = false;  // actor verbs run until stopped; their logs get times
};

// Thrown by verbs for a one-line error on stderr and the given exit code.
struct cli_error {
  int code;
  std::string message;
};

// The verbs of a feature that runs an actor system, all of its sluice-<feature> executable's
// command line: defined by the feature's verb file, called by that executable's main
// (cli/actor_main.cpp, linked into each of them).
void add_feature_verbs(CLI::App& app, cli_state& state);

}  // namespace sluice::cli
