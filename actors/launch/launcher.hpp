#pragma once
// `sluice launch`: runs the agents of a manifest under one supervisor actor each, with the
// overflow and load monitors, until the jobs are done or a signal says stop.
//
// Order of events: resolve the bus (flag > env > manifest `bus` > "default"), create its
// directory, bus.ctl and every agent's inbox — all before any process is spawned, so a
// setup error leaves nothing running — then spawn the agents and the monitors. SIGINT or
// SIGTERM (or the last job finishing) stops every agent (SIGTERM to its process group, grace,
// SIGKILL to it and everything it started); a second SIGINT skips the grace. Finally the bus
// is removed unless `keep`. A launch killed outright (even SIGKILL) removes nothing, but
// each agent's guard kills the agent and all its descendants (runtime/agent_guard.cpp), so
// nothing keeps consuming from or sending into the bus, and the manifest can be launched
// again as soon as they are gone (milliseconds).
//
// A manifest's [bridge] runs as `sluice_bin bridge ...` under the process name "bridge",
// supervised and restarted like an agent (it has no inbox of its own).
#include <chrono>
#include <filesystem>

#include "actors/launch/manifest.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

struct launch_options {
  runtime::bus_flags bus;                 // --bus / --dir
  bool keep = false;                      // --keep: leave the inboxes (and logs) in place
  std::chrono::milliseconds grace{5000};  // --grace: SIGTERM -> SIGKILL
  std::filesystem::path sluice_bin;       // exported as SLUICE_BIN (shell agents call it)
};

// The exit code once everything stopped: 0 when every agent ended cleanly, 1 otherwise.
// An error (nothing spawned) when the bus or an inbox cannot be set up.
runtime::result<int> launch(const actors::manifest& m, const launch_options& opts);

}  // namespace sluice::actors
