// The sender and receiver actors of a bridge connection. All flow-control arithmetic lives in
// actors::credit_window / credit_ledger; these behaviors move messages between inboxes
// and the wire and keep the counters that bridge-<peer>.json shows.
#include "actors/bridge/link.hpp"

#include <spdlog/spdlog.h>

#include <caf/actor_system.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <vector>

#include "backpressure/address.hpp"

namespace sluice::actors {

namespace {

using pump_atom = caf::atom_constant<caf::atom("bpump")>;
using tick_atom = caf::atom_constant<caf::atom("btick")>;

// How often an idle sender looks at its outbound inbox. A timer, not the not_empty doorbell:
// blocking a scheduler thread on the doorbell would stall every other actor, and a detached
// actor that blocks keeps CAF's shutdown waiting for its thread. Costs up to this much latency
// on a quiet link; a busy link never waits (the next batch is read as soon as one commits).
constexpr auto idle_poll = std::chrono::milliseconds(1);
// Another sender (an older connection's, not yet down) may still hold the outbound inbox.
constexpr auto attach_retry = std::chrono::milliseconds(20);
// How often a receiver retries parked messages and re-grants credit to a full destination.
constexpr auto receiver_tick = std::chrono::milliseconds(10);

constexpr auto relaxed = std::memory_order_relaxed;  // display counters, see bridge_peer

inbox::priority to_priority(std::uint8_t p) noexcept {
  return p <= static_cast<std::uint8_t>(inbox::priority::critical) ? static_cast<inbox::priority>(p)
                                                                   : inbox::priority::normal;
}

// ---- sender -------------------------------------------------------------------------------

struct frame {
  std::uint64_t id = 0;
  std::uint8_t prio = 0;
  std::string from;
  std::string dest;
  std::string type;
  std::string payload;
};

struct sender_state {
  std::shared_ptr<bridge_context> ctx;
  std::shared_ptr<bridge_peer> peer;
  std::string peer_name;
  std::string outbound;
  caf::actor far_receiver;
  std::optional<inbox::inbox> box;  // declared before cons: the inbox outlives its consumer
  std::optional<inbox::consumer> cons;
  actors::credit_window win;
  std::vector<frame> frames;
  std::vector<inbox::received_message> buf;
  bool open_error_logged = false;
  static inline const char* name = "sluice.bridge.sender";

  ~sender_state() {
    if (peer) {
      peer->in_flight.store(0, relaxed);
      peer->credits.store(0, relaxed);
    }
  }
};

using sender_actor = caf::stateful_actor<sender_state>;

void publish_window(sender_state& s) {
  s.peer->credits.store(s.win.credits(), relaxed);
  s.peer->in_flight.store(s.win.in_flight(), relaxed);
}

void send_ready(sender_actor* self) {
  auto& s = self->state;
  while (auto i = s.win.next_sendable()) {
    auto& f = s.frames[*i];
    bool again = false;
    {
      std::lock_guard<std::mutex> lock(s.peer->m);
      again = !s.peer->transmitted.insert(f.id).second;
    }
    (again ? s.peer->resent : s.peer->sent).fetch_add(1, relaxed);
    self->send(s.far_receiver, bridge_data_atom::value, f.id, f.prio, std::move(f.from), f.dest,
               std::move(f.type), std::move(f.payload));
    s.win.mark_sent(*i);
  }
  for (auto& d : s.win.take_wants()) self->send(s.far_receiver, bridge_want_atom::value, d);
  if (s.win.complete()) {
    // Every message of the batch is in its destination inbox on the far bus: only now may it
    // leave ours (at-least-once across link drops and crashes of either bridge).
    s.cons->commit();
    {
      std::lock_guard<std::mutex> lock(s.peer->m);
      s.peer->transmitted.clear();
    }
    s.win.clear();
    s.frames.clear();
    self->send(self, pump_atom::value);
  }
  publish_window(s);
}

bool attach(sender_actor* self) {
  auto& s = self->state;
  if (!s.box) {
    auto b = inbox::inbox::open_or_create(s.ctx->bus_dir, s.outbound, s.ctx->inbox_opts);
    if (!b) {
      if (!s.open_error_logged)
        spdlog::error("bridge {}: cannot open outbound inbox {}: {}", s.ctx->name, s.outbound,
                      b.err().message);
      s.open_error_logged = true;
      return false;
    }
    s.box.emplace(std::move(b.value()));
  }
  auto c = s.box->attach_consumer();
  if (!c) return false;
  s.cons.emplace(std::move(c.value()));
  spdlog::debug("bridge {}: consuming {}", s.ctx->name, s.outbound);
  return true;
}

void pump(sender_actor* self) {
  auto& s = self->state;
  if (!s.cons && !attach(self)) {
    self->delayed_send(self, attach_retry, pump_atom::value);
    return;
  }
  if (!s.win.empty()) return;  // a batch is out: acks and credits drive the next step
  s.buf.resize(s.ctx->batch);
  const std::size_t n = s.cons->pop_batch(s.buf.data(), s.buf.size());
  if (n == 0) {
    self->delayed_send(self, idle_poll, pump_atom::value);
    return;
  }
  std::vector<actors::credit_window::entry> entries;
  entries.reserve(n);
  s.frames.clear();
  s.frames.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& m = s.buf[i];
    const auto env = backpressure::unwrap_envelope(m.payload);
    frame f;
    f.id = m.id;
    if (env) {
      f.prio = static_cast<std::uint8_t>(m.prio);
      f.from = std::string(m.from);
      f.dest = std::string(env->agent);
      f.type = std::string(m.type);
      f.payload = std::string(env->payload);
    } else {
      spdlog::warn(
          "bridge {}: message {} from '{}' in {} has no '<agent>\\n' envelope; not forwarded "
          "(counted as undeliverable; send to agent@{} instead)",
          s.ctx->name, m.id, m.from, s.outbound, s.peer_name);
      s.peer->undeliverable.fetch_add(1, relaxed);
    }
    entries.push_back({m.id, f.dest, !env});
    s.frames.push_back(std::move(f));
  }
  s.win.load(std::move(entries));
  send_ready(self);
}

caf::behavior bridge_sender(sender_actor* self, std::shared_ptr<bridge_context> ctx,
                            std::string peer) {
  auto& s = self->state;
  s.peer = ctx->peer(peer);
  s.ctx = std::move(ctx);
  s.peer_name = peer;
  s.outbound = backpressure::outbound_inbox(peer);
  self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
  return {
      [self](bridge_start_atom, const caf::actor& far_sender, const caf::actor& far_receiver) {
        self->state.far_receiver = far_receiver;
        self->monitor(far_sender);
        self->monitor(far_receiver);
        self->send(self, pump_atom::value);
      },
      [self](pump_atom) { pump(self); },
      [self](bridge_ack_atom, std::uint64_t id, const std::string& dest, std::uint64_t limit) {
        auto& st = self->state;
        if (st.win.ack(id)) st.peer->acked.fetch_add(1, relaxed);
        st.win.grant(dest, limit);
        send_ready(self);
      },
      [self](bridge_credit_atom, const std::string& dest, std::uint64_t limit) {
        self->state.win.grant(dest, limit);
        send_ready(self);
      },
  };
}

// ---- receiver -----------------------------------------------------------------------------

struct incoming {
  std::uint64_t id = 0;
  std::uint8_t prio = 0;
  std::string from;
  std::string to;
  std::string type;
  std::string payload;
};

enum class delivery { delivered, full, failed };

struct receiver_state {
  std::shared_ptr<bridge_context> ctx;
  std::shared_ptr<bridge_peer> peer;
  caf::actor far_sender;
  std::map<std::string, inbox::inbox> boxes;
  std::set<std::string> failed_logged;
  actors::credit_ledger ledger;
  std::deque<incoming> parked;  // in arrival order: delivery stays in order behind a full inbox
  static inline const char* name = "sluice.bridge.receiver";
};

using receiver_actor = caf::stateful_actor<receiver_state>;

inbox::inbox* box_for(receiver_state& s, const std::string& agent) {
  if (auto it = s.boxes.find(agent); it != s.boxes.end()) return &it->second;
  auto b = inbox::inbox::open_or_create(s.ctx->bus_dir, agent, s.ctx->inbox_opts);
  if (!b) {
    if (s.failed_logged.insert(agent).second)
      spdlog::error("bridge {}: cannot open inbox '{}' for messages from {}: {}", s.ctx->name,
                    agent, "the peer", b.err().message);
    return nullptr;
  }
  return &s.boxes.emplace(agent, std::move(b.value())).first->second;
}

std::uint64_t free_slots(receiver_state& s, const std::string& agent) {
  auto* box = box_for(s, agent);
  if (box == nullptr) return 0;
  const std::uint64_t cap = box->capacity();
  const std::uint64_t size = box->size();
  return size >= cap ? 0 : cap - size;
}

delivery deliver(receiver_state& s, const incoming& m) {
  auto* box = box_for(s, m.to);
  if (box == nullptr) return delivery::failed;
  const inbox::message_view v{m.from, m.type, m.payload, to_priority(m.prio)};
  switch (box->try_push(v)) {
    case inbox::push_result::ok:
      return delivery::delivered;
    case inbox::push_result::full:
    case inbox::push_result::no_space:  // the filesystem may have room again later
      return delivery::full;
    case inbox::push_result::too_large:
    case inbox::push_result::closed:
    case inbox::push_result::broken:
      break;
  }
  spdlog::error(
      "bridge {}: message {} from '{}' to '{}' cannot go into that inbox (too large, closed, "
      "or its file was damaged); not delivered, counted as undeliverable",
      s.ctx->name, m.id, m.from, m.to);
  return delivery::failed;
}

void acknowledge(receiver_actor* self, std::uint64_t id, const std::string& to) {
  auto& s = self->state;
  self->send(s.far_sender, bridge_ack_atom::value, id, to, s.ledger.limit(to, free_slots(s, to)));
}

// After a delivery attempt that did not end in `full`: remember the id and count it.
void settle(receiver_state& s, const incoming& m, delivery d) {
  {
    std::lock_guard<std::mutex> lock(s.peer->m);
    s.peer->delivered.insert(m.id);
  }
  (d == delivery::delivered ? s.peer->received : s.peer->undeliverable).fetch_add(1, relaxed);
}

void on_tick(receiver_actor* self) {
  auto& s = self->state;
  while (!s.parked.empty()) {
    auto& m = s.parked.front();
    const auto d = deliver(s, m);
    if (d == delivery::full) break;
    s.ledger.on_unparked(m.to);
    settle(s, m, d);
    acknowledge(self, m.id, m.to);
    s.parked.pop_front();
  }
  for (const auto& dest : s.ledger.destinations()) {
    if (auto g = s.ledger.fresh_grant(dest, free_slots(s, dest)))
      self->send(s.far_sender, bridge_credit_atom::value, dest, *g);
  }
  self->delayed_send(self, receiver_tick, tick_atom::value);
}

caf::behavior bridge_receiver(receiver_actor* self, std::shared_ptr<bridge_context> ctx,
                              std::string peer) {
  auto& s = self->state;
  s.peer = ctx->peer(peer);
  s.ctx = std::move(ctx);
  self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
  return {
      [self](bridge_start_atom, const caf::actor& far_sender, const caf::actor& far_receiver) {
        self->state.far_sender = far_sender;
        self->monitor(far_sender);
        self->monitor(far_receiver);
        self->send(self, tick_atom::value);
      },
      [self](tick_atom) { on_tick(self); },
      [self](bridge_want_atom, const std::string& dest) {
        auto& st = self->state;
        self->send(st.far_sender, bridge_credit_atom::value, dest,
                   st.ledger.limit(dest, free_slots(st, dest)));
      },
      [self](bridge_data_atom, std::uint64_t id, std::uint8_t prio, std::string& from,
             std::string& to, std::string& type, std::string& payload) {
        auto& st = self->state;
        st.ledger.on_received(to);
        incoming m{id, prio, std::move(from), std::move(to), std::move(type), std::move(payload)};
        bool repeat = false;
        {
          std::lock_guard<std::mutex> lock(st.peer->m);
          repeat = st.peer->delivered.contains(id);
        }
        if (repeat) {
          st.peer->duplicates.fetch_add(1, relaxed);
          acknowledge(self, m.id, m.to);
          return;
        }
        const auto d = st.parked.empty() ? deliver(st, m) : delivery::full;
        if (d == delivery::full) {
          st.ledger.on_parked(m.to);
          st.parked.push_back(std::move(m));
          return;
        }
        settle(st, m, d);
        acknowledge(self, m.id, m.to);
      },
  };
}

}  // namespace

caf::actor spawn_bridge_sender(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                               std::string peer) {
  return sys.spawn(bridge_sender, std::move(ctx), std::move(peer));
}

caf::actor spawn_bridge_receiver(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                                 std::string peer) {
  return sys.spawn(bridge_receiver, std::move(ctx), std::move(peer));
}

}  // namespace sluice::actors
