#pragma once
// `sluice bridge` (docs/architecture.md section 9): joins this bus to a bus on another host with CAF's
// network layer (caf::io BASP, behind the bridge's own front door), so
// `sluice send me far@east ...` on one bus lands in inbox `far` of the bus whose bridge is
// named `east`.
//
// One side listens, the other connects and reconnects with exponential backoff and full
// jitter. Each connection first passes the bridge's own handshake in its front door (an HMAC
// challenge-response when both sides hold the same --secret-file; bridge_front_door.hpp says
// why CAF gets a connection only after that). Then each side runs a sender actor per peer,
// which consumes the outbound inbox `bridge-<peer>`, and a receiver actor, which pushes into
// local inboxes.
// Flow control and delivery guarantees: see backpressure/bridge_credit.hpp.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "runtime/bus_dir.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

struct bridge_options {
  runtime::bus_flags bus;             // --bus / --dir
  std::string name;                   // --name; empty: the bus name
  std::string listen;                 // --listen HOST:PORT (port 0: any free port)
  std::string connect;                // --connect HOST:PORT
  std::filesystem::path secret_file;  // --secret-file; empty: no authentication
  std::size_t batch = 256;            // messages read from the outbound inbox per commit
  // --handshake-timeout: a connection must finish the bridge handshake this soon after it
  // was accepted (or, dialing, after the dial began), or it is closed.
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds(5);
  // --max-unauthenticated: connections in the handshake at once; more are closed at once.
  std::size_t max_unauthenticated = 16;
};

// Exit codes of run_bridge's value.
inline constexpr int bridge_exit_ok = 0;        // stopped by SIGINT/SIGTERM
inline constexpr int bridge_exit_refused = 77;  // the peer refused us, or we refused it (auth)

// Runs until SIGINT/SIGTERM (or an authentication refusal on the connecting side). The
// listening side prints one JSON line {"event":"listening","name":..,"host":..,"port":..}
// on stdout once it accepts connections. Errors: bad options, bus or secret unusable, the
// port cannot be bound.
runtime::result<int> run_bridge(const bridge_options& opts);

}  // namespace sluice::actors
