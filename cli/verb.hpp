#pragma once
// How a verb plugs into the `sluice` executable: each verb file defines one
// `void add_<name>_verbs(CLI::App&, cli_state&)`, listed in main.cpp. A verb's CLI11 callback
// stores the action to run in state.action; main runs it after parsing and exits with its code.
#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace sluice::cli {

// Exit codes (sysexits.h values, as documented in README "Exit codes").
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;       // e.g. check-capacity: full
inline constexpr int usage = 64;        // EX_USAGE: unknown verb, missing or bad flags
inline constexpr int bad_input = 65;    // EX_DATAERR: bad name, payload too large, bad value
inline constexpr int unavailable = 69;  // EX_UNAVAILABLE: circuit open
inline constexpr int software = 70;     // EX_SOFTWARE: internal error
inline constexpr int os_error = 71;     // EX_OSERR: the OS refused (permissions, no space)
inline constexpr int io_error = 74;     // EX_IOERR: could not read input / write output
inline constexpr int temp_fail = 75;    // EX_TEMPFAIL: backpressure exhausted, inbox still full
}  // namespace exit_code

struct global_options {
  std::string bus;  // --bus / SLUICE_BUS
  std::string dir;  // --dir / SLUICE_DIR
};

struct cli_state {
  global_options globals;
  std::function<int()> action;
};

// Thrown by verbs for a one-line error on stderr and the given exit code.
struct cli_error {
  int code;
  std::string message;
};

}  // namespace sluice::cli
