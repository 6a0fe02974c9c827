#pragma once
// The two actors of one bridge connection on each side, and the messages between them.
//
//   west sender --(data id prio from to type payload)--> east receiver   pushes into `to`
//   west sender <--(ack id to limit) / (credit to limit)-- east receiver
//   west sender --(want to)--> east receiver                          asks for a first grant
//
// and the same the other way round. Both actors start on `start(peer_sender, peer_receiver)`
// and monitor both far actors: when the connection drops CAF reports them down, the local pair
// quits, and the uncommitted batch stays in the outbound inbox for the next connection.
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <memory>
#include <string>

#include "actors/bridge/context.hpp"

namespace sluice::actors {

using bridge_start_atom = caf::atom_constant<caf::atom("bstart")>;
using bridge_data_atom = caf::atom_constant<caf::atom("bdata")>;
using bridge_ack_atom = caf::atom_constant<caf::atom("back")>;
using bridge_credit_atom = caf::atom_constant<caf::atom("bcredit")>;
using bridge_want_atom = caf::atom_constant<caf::atom("bwant")>;
using bridge_auth_atom = caf::atom_constant<caf::atom("bauth")>;

// The sender polls its outbound inbox every millisecond while it is empty (see idle_poll).
caf::actor spawn_bridge_sender(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                               std::string peer);
caf::actor spawn_bridge_receiver(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                                 std::string peer);

}  // namespace sluice::actors
