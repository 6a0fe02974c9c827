#pragma once
// CAF's end of an authenticated bridge connection: a scribe (CAF 0.17's socket wrapper) over
// the TCP socket the front door hands over, which refuses any BASP frame announcing more than
// a bridge ever sends.
//
// Why: CAF's BASP broker reads a 32-byte header and then asks its scribe for exactly the
// payload length that header declares (configure_read), and the scribe allocates that much
// before reading a byte of it; nothing in the middleman's configuration bounds it. The front
// door keeps unauthenticated peers away from CAF, but without --secret-file anyone passes its
// handshake, and with one a peer holding the secret could still send such a frame. This scribe
// shuts the connection down instead of allocating, in CAF's own I/O thread, so it costs
// nothing per message (a relay in front of CAF would cost a thread hop per message).
#include <caf/fwd.hpp>
#include <caf/io/fwd.hpp>
#include <cstdint>
#include <string>

#include "actors/bridge/front_door.hpp"
#include "inbox/layout.hpp"

namespace sluice::actors {

// caf/io/basp/header.hpp: the fixed header before every BASP payload.
inline constexpr std::size_t basp_header_size = 32;

// The largest BASP payload a bridge sends. One CAF message carries one bridge message, which
// is at most one inbox slot (the largest slot any bus may have, so two buses with different
// slot sizes still agree) plus its addresses, type and CAF's own framing: a few hundred
// bytes, so 64 KiB is ample. Handshakes, heartbeats, acks, credits and down messages are far
// smaller. Whoever batches several bridge messages into one CAF message must stay within it.
inline constexpr std::uint32_t max_basp_payload = inbox::layout::max_slot_size + 64 * 1024;

// Wraps the admitted connection's socket (which it takes) for CAF's BASP broker. `bridge`
// names this bridge in the log line of a refusal. The actor system must use CAF's default
// network backend (the bridge configures no other). Callable from any thread.
caf::io::scribe_ptr make_capped_scribe(caf::actor_system& sys, admitted_connection& conn,
                                       const std::string& bridge,
                                       std::uint32_t max_payload = max_basp_payload);

// Shuts the scribe's connection down (CAF then sees it closed). Callable from any thread while
// the caller holds the pointer.
void cut_connection(const caf::io::scribe_ptr& scribe) noexcept;

}  // namespace sluice::actors
