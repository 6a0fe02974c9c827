#pragma once
// One supervisor actor per agent of a launch (docs/architecture.md section 6). It owns the agent's
// process from spawn to final exit: starts it under a guard (runtime/process.hpp: nothing
// the agent starts outlives it or the launcher; env SLUICE_BUS / SLUICE_DIR / SLUICE_AGENT /
// SLUICE_BIN / SLUICE_RESTARTS, the restarts so far), hears of its exit from the process watcher
// (pidfd, no polling; once the agent and everything it left running are gone), restarts it per
// restart_policy, and on stop sends SIGTERM to the agent's process group, waits the grace period
// and SIGKILLs the agent and every descendant. When the agent is down for good it reports
// (finished_atom, name, clean, description) to its manager and quits.
//
// "Clean": exit 0, or ended by the SIGTERM of a stop (also exit 143 = 128 + SIGTERM, a
// shell's way to say so). Needing SIGKILL after the grace period is not clean.
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "actors/launch/manifest.hpp"
#include "actors/launch/output_prefix.hpp"
#include "actors/launch/process.hpp"

namespace sluice::actors {

using start_atom = caf::atom_constant<caf::atom("start")>;
using exited_atom = caf::atom_constant<caf::atom("exited")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using kill_atom = caf::atom_constant<caf::atom("kill")>;
using finished_atom = caf::atom_constant<caf::atom("finished")>;

// What every agent of one launch shares.
struct launch_context {
  std::filesystem::path bus_dir;
  std::string bus;                   // name; empty when the bus was given as a directory
  std::filesystem::path sluice_bin;  // exported as SLUICE_BIN for shell agents
  std::filesystem::path cwd;         // the manifest's folder
  std::chrono::milliseconds grace{5000};
  actors::process_watcher* watcher = nullptr;
  std::shared_ptr<const output_prefixer> output;
};

caf::actor spawn_supervisor(caf::actor_system& sys, actors::agent_spec spec,
                            std::shared_ptr<const launch_context> ctx, caf::actor manager);

}  // namespace sluice::actors
