#pragma once
// CAF's end of an authenticated bridge connection: a scribe (CAF 0.17's socket wrapper) over
// the TCP socket the front door hands over, which refuses any BASP frame announcing more than
// a bridge ever sends (wire::max_basp_payload), and which with --tls-cert speaks TLS through
// CAF's own OpenSSL module.
//
// Why the cap: CAF's BASP broker reads a 32-byte header and then asks its scribe for exactly
// the payload length that header declares (configure_read), and the scribe allocates that
// much before reading a byte of it; nothing in the middleman's configuration bounds it. The
// front door keeps unauthenticated peers away from CAF, but without --secret-file anyone passes
// its handshake, and with one a peer holding the secret could still send such a frame. This
// scribe shuts the connection down instead of allocating, in CAF's own I/O thread, so it costs
// nothing per message (a relay in front of CAF would cost a thread hop per message).
//
// Why TLS here and not caf::openssl::publish / remote_actor: those open and accept their own
// sockets, so every connection would reach CAF (and its unbounded allocation) before the
// front door's limits and handshake. Terminating TLS in our own code and feeding CAF plaintext
// over a socketpair would put a copy and a thread hop on every message. Instead, once the front
// door's plaintext handshake has agreed on TLS, both sides start a caf::openssl::session (the
// module's own: its SSL_CTX, certificate, key and CA come from the actor system's
// configuration, and it verifies the peer's certificate against the CA in both directions) on
// the very same socket, and CAF's stream reads through it as CAF's own TLS scribe does. The
// front door's limits still hold: a peer that never completes TLS is one that did not link,
// and the acceptor cuts it like any other. A TLS handshake that fails calls back with the
// reason, so both sides can say the peer was refused.
#include <caf/fwd.hpp>
#include <caf/io/fwd.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "actors/bridge/front_door.hpp"
#include "actors/bridge/wire.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

struct scribe_options {
  std::string bridge;  // this bridge's name, for log lines
  std::uint32_t max_payload = wire::max_basp_payload;
  // TLS through caf::openssl (the actor system must have loaded caf::openssl::manager with a
  // certificate, key and CA): `accepted` says which side of the TLS handshake this is.
  bool tls = false;
  bool accepted = false;
  // Called at most once, on CAF's I/O thread, when the connection ends before TLS carried a
  // byte: why, and whether TLS refused (a certificate not from our CA, or ours not accepted)
  // rather than the connection merely breaking. Must not block.
  std::function<void(const std::string& why, bool refused)> on_tls_failure;
};

// Wraps the admitted connection's socket (which it takes) for CAF's BASP broker. Fails only
// when TLS cannot start on it. The actor system must use CAF's default network backend (the
// bridge configures no other). Callable from any thread.
runtime::result<caf::io::scribe_ptr> make_capped_scribe(caf::actor_system& sys,
                                                        admitted_connection& conn,
                                                        const scribe_options& opts);

// Shuts the scribe's connection down (CAF then sees it closed). Callable from any thread while
// the caller holds the pointer.
void cut_connection(const caf::io::scribe_ptr& scribe) noexcept;

}  // namespace sluice::actors
