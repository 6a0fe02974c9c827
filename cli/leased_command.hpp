#pragma once
// The command `sluice run KEY -- CMD...` runs while it holds KEY's lease. The lease belongs to
// sluice run's pid and is reclaimed the moment that process dies, so the command must not
// outlive it: it is forked with a parent-death signal (SIGKILL), or a SIGKILLed `sluice run`
// would hand the lease to the next acquire while its command still runs, one holder too many.
// Signals someone sends to `sluice run` itself (kill, a supervisor) are passed on to the
// command, which decides how to stop; those a terminal sends to the whole foreground group
// (Ctrl-C) already reach the command and are not sent twice.
#include <string>
#include <vector>

namespace sluice::cli {

struct command_outcome {
  int exit_code = 0;    // the command's, or 128 + its signal; 127/126 when it did not start
  int spawn_errno = 0;  // why it did not start (0: it ran)
};

command_outcome run_leased_command(const std::vector<std::string>& command);

}  // namespace sluice::cli
