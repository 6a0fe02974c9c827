#pragma once
// How a verb plugs into the command line: each verb file defines one
// `void add_<name>_verbs(CLI::App&, cli_state&)`, listed in cli/app.cpp (one-shot verbs, the
// `sluice` executable) or cli/actors_main.cpp (verbs that run an actor system, the
// `sluice-actors` executable; see cli/actor_verbs.hpp). A verb's CLI11 callback stores the
// action to run in state.action; run_app() runs it after parsing and exits with its code.
#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace sluice::cli {

// Exit codes (sysexits.h values; `sluice --help` lists them in its footer).
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;         // e.g. check-capacity: full
inline constexpr int usage = 64;          // EX_USAGE: unknown verb, missing or bad flags
inline constexpr int bad_input = 65;      // EX_DATAERR: bad name, payload too large, bad value,
                                          // corrupt inbox file
inline constexpr int unavailable = 69;    // EX_UNAVAILABLE: circuit open, or sluice-actors
                                          // (a support program) missing
inline constexpr int software = 70;       // EX_SOFTWARE: internal error
inline constexpr int os_error = 71;       // EX_OSERR: the OS refused (not a directory, no space)
inline constexpr int io_error = 74;       // EX_IOERR: could not read input / write output
inline constexpr int temp_fail = 75;      // EX_TEMPFAIL: backpressure exhausted, inbox still full,
                                          // or another consumer holds the inbox
inline constexpr int no_permission = 77;  // EX_NOPERM: file of another user, symlink, EACCES
}  // namespace exit_code

// The footer of `sluice --help`, so scripts can look the codes up where they use them.
inline constexpr const char* exit_code_help =
    "Exit codes: 0 ok, 1 check-capacity: full, 64 usage, 65 bad input (name, payload, value,\n"
    "corrupt inbox), 69 circuit open or sluice-actors missing, 70 internal error, 71 OS error\n"
    "(bus dir not creatable, no space), 74 I/O error (stdin unreadable, stdout closed: nothing\n"
    "was consumed), 75 backpressure exhausted or inbox busy, 77 permission (another user's inbox,\n"
    "symlink).";

struct global_options {
  std::string bus;     // --bus / SLUICE_BUS
  std::string dir;     // --dir / SLUICE_DIR
  bool group = false;  // --group: inboxes 0660 and shared with the file's group
};

struct cli_state {
  global_options globals;
  std::function<int()> action;
  char** argv = nullptr;  // main's argv, which a forwarded verb hands to sluice-actors unchanged
};

// Thrown by verbs for a one-line error on stderr and the given exit code.
struct cli_error {
  int code;
  std::string message;
};

}  // namespace sluice::cli
