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

// The sender consumes bridge-<peer> (and the peer's holding inboxes) and waits on the
// outbound inbox's doorbell through the peer's doorbell_watch when there is nothing to send.
caf::actor spawn_bridge_sender(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                               std::string peer);
caf::actor spawn_bridge_receiver(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                                 std::string peer);

}  // namespace sluice::actors
