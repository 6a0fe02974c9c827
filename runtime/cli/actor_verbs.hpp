#pragma once
// The verbs that run a CAF actor system. Each feature's verbs are an executable of their own,
// `sluice-<feature>` (git's way: `git commit` runs git-commit), installed next to `sluice`:
// one-shot verbs are called thousands of times from shell loops, and loading libcaf alone
// costs more than the whole 2 ms start-up budget (docs/architecture.md section 1); and a build
// that needs one feature (the demo needs launch) compiles only that feature's actors.
// `sluice` lists these verbs in its --help with the descriptions below and, when one is
// called, replaces itself with the verb's executable and the unchanged argv (cli/forward.hpp),
// so `sluice launch --help` prints the real options and global flags work on either side.
//
// This table is where the descriptions live: a verb file registers its subcommand with
// actor_verb_description("<name>"). A CAF verb missing here is a verb that `sluice` does not
// know; the test "sluice --help lists every verb of each actor executable with the same
// description" catches that, and a wrong executable below.
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::cli {

struct actor_verb {
  const char* name;
  const char* executable;  // sluice-<feature folder>, built by sluice_feature's VERB
  const char* description;
};

inline constexpr actor_verb actor_verbs[] = {
    {"launch", "sluice-launch",
     "run the agents of a TOML manifest under supervision until the jobs finish or "
     "SIGINT/SIGTERM; exit 0 when every agent ended cleanly"},
    {"monitor-overflow", "sluice-monitors",
     "watch every inbox in the foreground: inbox.size/inbox.utilization metrics, overflow "
     "alerts, metrics.prom; Ctrl-C stops"},
    {"monitor-rate-limit", "sluice-monitors",
     "adapt batch size and backpressure wait to CPU load in the foreground, published in "
     "bus.ctl for every process; Ctrl-C stops"},
    {"apply-rate-limit", "sluice-monitors",
     "measure CPU load once, publish batch size and wait in bus.ctl, print the decision as JSON"},
    {"loadtest", "sluice-loadtest",
     "synthetic senders into sink agents: loss, order, throughput, latency"},
    {"bridge", "sluice-bridge",
     "join this bus to a bus on another host (caf::io): `send me far@NAME ...` on one bus "
     "reaches inbox far on the bus whose bridge is NAME; runs until SIGINT/SIGTERM; exit 77 "
     "when authentication fails"},
};

// The table's entry for a verb. A name not in it is a programming error, thrown when an
// actor executable builds its command line (so on its first run in any test).
inline const actor_verb& find_actor_verb(std::string_view name) {
  for (const auto& v : actor_verbs) {
    if (name == v.name) return v;
  }
  throw std::logic_error("verb '" + std::string(name) + "' is missing from cli/actor_verbs.hpp");
}

inline const char* actor_verb_description(std::string_view name) {
  return find_actor_verb(name).description;
}

}  // namespace sluice::cli
