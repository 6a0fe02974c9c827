#pragma once
// A link actor's timer message to itself (the receiver's tick, the sender's retry and spill
// check), sent without a sender.
//
// Why not self->delayed_send(self, ...): the link actors are brokers, and CAF 0.17 never closes
// a broker's mailbox when it terminates (abstract_broker::cleanup calls local_actor::cleanup
// and skips scheduled_actor::cleanup, which closes and empties the mailbox of every other
// actor). A message to itself that is still queued when its link stops, or a delayed one that
// fires later (it cannot be cancelled), stays in the dead broker's mailbox until the broker is
// freed. With the broker as its sender, that message holds a strong reference to the broker:
// the broker, its mailbox and everything the mailbox holds (the down messages of the far
// actors' BASP proxies, and so the proxies) would never be freed. Without a sender it is
// freed with the broker. So a link sends itself nothing but these.
#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <utility>

namespace sluice::actors {

template <class Broker, class Duration, class... Ts>
void link_timer(Broker* self, Duration delay, Ts&&... xs) {
  caf::delayed_anon_send(caf::actor_cast<caf::actor>(self), delay, std::forward<Ts>(xs)...);
}

}  // namespace sluice::actors
