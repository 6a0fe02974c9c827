#pragma once
// How a verb plugs into the command line: each verb file defines one
// `void add_<name>_verbs(CLI::App&, cli_state&)`, listed in cli/app.cpp (one-shot verbs, the
// `sluice` executable) or cli/actors_main.cpp (verbs that run an actor system, the
// `sluice-actors` executable; see cli/actor_verbs.hpp). A verb's CLI11 callback stores the
// action to run in state.action; run_app() runs it after parsing and exits with its code.
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
    "corrupt inbox), 66 not found, 69 circuit open or sluice-actors missing, 70 internal error,\n"
    "71 OS error (bus dir not creatable, no space), 74 I/O error (stdin unreadable, stdout\n"
    "closed: nothing was consumed), 75 backpressure exhausted or inbox busy, 77 permission\n"
    "(another user's file or directory, symlink).";

struct global_options {
  std::string bus;     // --bus / SLUICE_BUS
  std::string dir;     // --dir / SLUICE_DIR
  bool group = false;  // --group: inboxes 0660 and shared with the file's group
};

struct cli_state {
  global_options globals;
  std::function<int()> action;
  char** argv = nullptr;  // main's argv, which a forwarded verb hands to sluice-actors unchanged
  bool long_running = false;  // sluice-actors: every verb runs until stopped; logs get times
};

// Thrown by verbs for a one-line error on stderr and the given exit code.
struct cli_error {
  int code;
  std::string message;
};

}  // namespace sluice::cli
