#pragma once
// The two actors of one bridge connection on each side, and the messages between them
// (the blobs are encoded by wire.hpp):
//
//   west sender --(batch: many messages)--> east receiver       pushes into each `to`
//   west sender <--(ack: through, parked, grants)-- east receiver   also unsolicited credit
//   west sender --(want: destinations)--> east receiver         asks for first grants
//
// and the same the other way round. Both actors start on `start(peer_sender, peer_receiver)`
// and monitor both far actors: when the connection drops CAF reports them down, the local pair
// quits, and the uncommitted batches stay in their inboxes for the next connection.
//
// Both are spawned as brokers without connections, so they run on CAF's I/O thread beside the
// BASP broker: a batch the receiver gets from BASP, and one the sender hands to it, changes
// hands inside that thread instead of waking a scheduler thread each way (a hop of 10 to 50 us
// on a busy two-core machine, on every message of a quiet link). Their work per message is a
// few hundred nanoseconds and never blocks; opening an inbox the first time is the longest.
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <memory>
#include <string>

#include "actors/bridge/context.hpp"

namespace sluice::actors {

using bridge_start_atom = caf::atom_constant<caf::atom("bstart")>;
using bridge_batch_atom = caf::atom_constant<caf::atom("bbatch")>;
using bridge_ack_atom = caf::atom_constant<caf::atom("back")>;
using bridge_want_atom = caf::atom_constant<caf::atom("bwant")>;
using bridge_auth_atom = caf::atom_constant<caf::atom("bauth")>;

// The sender consumes bridge-<peer> (and the peer's holding inboxes) and, when there is nothing
// to send, waits for the outbound inbox's bell on CAF's I/O loop (fd_watch.hpp).
caf::actor spawn_bridge_sender(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                               std::string peer);
caf::actor spawn_bridge_receiver(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                                 std::string peer);

}  // namespace sluice::actors
