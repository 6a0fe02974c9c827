#pragma once
// `sluice bridge` (docs/architecture.md section 9): joins this bus to buses on other hosts with
// CAF's network layer (caf::io BASP, behind the bridge's own front door), so
// `sluice send me far@east ...` on one bus lands in inbox `far` of the bus whose bridge is
// named `east`.
//
// A bridge listens for any number of peers, connects to any number (each reconnecting with
// exponential backoff and full jitter), or both. Each connection first passes the bridge's own
// handshake in its front door (an HMAC challenge-response when both sides hold the same
// --secret-file, and the agreement on TLS; front_door.hpp says why CAF gets a connection only
// after that), then runs TLS through CAF's OpenSSL module when configured (capped_scribe.hpp).
// Then each side runs a sender actor per peer, which consumes the outbound inbox
// `bridge-<peer>`, and a receiver actor, which pushes into local inboxes. Flow control and
// delivery guarantees: credit.hpp; the wire format: wire.hpp.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/bridge/tls_files.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

struct bridge_options {
  runtime::bus_flags bus;             // --bus / --dir
  std::string name;                   // --name; empty: the bus name
  std::string listen;                 // --listen HOST:PORT (port 0: any free port); or empty
  std::vector<std::string> connect;   // --connect HOST:PORT, once per peer
  std::filesystem::path secret_file;  // --secret-file; empty: no authentication
  tls_files tls;                      // --tls-cert, --tls-key, --tls-ca; empty: no TLS
  // Messages read from an outbound inbox per commit, at most half its capacity (the other half
  // takes new messages while a batch is on the wire).
  std::size_t batch = 512;
  // --handshake-timeout: a connection must finish the bridge handshake this soon after it
  // was accepted (or, dialing, after the dial began), or it is closed.
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds(5);
  // --max-unauthenticated: connections in the handshake at once; more are closed at once.
  std::size_t max_unauthenticated = 16;
};

// Exit codes of run_bridge's value.
inline constexpr int bridge_exit_ok = 0;  // stopped by SIGINT/SIGTERM
// Every peer it connects to refused it or was refused (secret, TLS), and it listens for none.
inline constexpr int bridge_exit_refused = 77;

// Runs until SIGINT/SIGTERM (or, without --listen, until every --connect peer was refused).
// With --listen it prints one JSON line {"event":"listening","name":..,"host":..,"port":..}
// on stdout once it accepts connections. Errors: bad options, bus, secret or TLS files
// unusable, the port cannot be bound.
runtime::result<int> run_bridge(const bridge_options& opts);

}  // namespace sluice::actors
