// The receiving half of a bridge connection: takes batches (wire.hpp), pushes each run of
// messages for one inbox with one try_push_batch, acknowledges the whole batch at once with
// fresh credit for the inboxes it touched, and parks what did not fit (an inbox filled by a
// local sender after the credit was granted) until there is room, per destination, so a full
// inbox holds up only its own messages. Each message first passes this bus's policy as a local
// send from its sender would (governance::send_gate): a limit without room parks it like a full
// inbox, a deny rule settles it as undeliverable (logged, counted), a demote rule lowers its lane.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "actors/bridge/link.hpp"
#include "actors/bridge/link_timer.hpp"
#include "actors/bridge/wire.hpp"
#include "governance/clock.hpp"
#include "governance/send_gate.hpp"

namespace sluice::actors {

namespace {

using tick_atom = caf::atom_constant<caf::atom("btick")>;

// How often a receiver retries parked messages and re-grants credit to a full destination.
constexpr auto receiver_tick = std::chrono::milliseconds(10);

constexpr auto relaxed = std::memory_order_relaxed;  // display counters, see bridge_peer

inbox::priority to_priority(std::uint8_t p) noexcept {
  return p <= static_cast<std::uint8_t>(inbox::priority::critical) ? static_cast<inbox::priority>(p)
                                                                   : inbox::priority::normal;
}

struct parked_message {
  std::uint64_t seq = 0;
  std::uint64_t id = 0;
  std::uint8_t prio = 0;
  bool admitted = false;  // the policy allowed it already (prio is then the lane it allowed)
  std::string from;
  std::string type;
  std::string payload;
};

struct receiver_state {
  std::shared_ptr<bridge_context> ctx;
  std::shared_ptr<bridge_peer> peer;
  caf::actor far_sender;
  std::map<std::string, inbox::inbox> boxes;
  std::set<std::string> failed_logged;
  credit_ledger ledger;
  std::uint64_t through = 0;  // the last sequence number received on this connection
  std::map<std::string, std::deque<parked_message>> parked;  // per destination, in order
  wire::batch in;
  std::vector<inbox::message_view> views;
  std::optional<governance::send_gate> policy;
  // Credit requests that arrived before bridge_start, answered by it. On the dialing side the
  // far pair starts first (the far acceptor starts it before it answers the dialer, which then
  // starts this one), so the far sender's first want can overtake this side's start.
  std::vector<std::string> early_wants;
  // Batches delivered and not yet acknowledged (ack_when_idle), and the grants for them.
  bool ack_due = false;
  std::map<std::string, std::uint64_t> grants_due;
  static inline const char* name = "sluice.bridge.receiver";
};

using receiver_actor = caf::io::stateful_broker<receiver_state>;

inbox::inbox* box_for(receiver_state& s, const std::string& agent) {
  if (auto it = s.boxes.find(agent); it != s.boxes.end()) return &it->second;
  auto b = inbox::inbox::open_or_create(s.ctx->bus_dir, agent, s.ctx->inbox_opts);
  if (!b) {
    if (s.failed_logged.insert(agent).second)
      spdlog::error("bridge {}: cannot open inbox '{}' for messages from the peer: {}", s.ctx->name,
                    agent, b.err().message);
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

bool retry_later(inbox::push_result r) noexcept {
  // no_space: the filesystem may have room again later.
  return r == inbox::push_result::full || r == inbox::push_result::no_space;
}

void log_undeliverable(receiver_state& s, std::uint64_t id, std::string_view from,
                       std::string_view to) {
  spdlog::error(
      "bridge {}: message {} from '{}' to '{}' cannot go into that inbox (too large, closed, "
      "its file was damaged, or no such inbox can be made); not delivered, counted as "
      "undeliverable",
      s.ctx->name, id, from, to);
}

enum class policy_says { deliver, hold, refuse };

// The bus policy's verdict on a remote message for `dest`, as on a local send from its sender;
// `prio` becomes the lane to deliver in. A pacing delay is not slept (the actor must not
// block): the message goes in at once, paced by the credit the sender gets back.
policy_says ask_policy(receiver_state& s, std::string_view from, std::string_view type,
                       std::string_view dest, std::uint8_t& prio) {
  if (!s.policy) return policy_says::deliver;
  const auto v = s.policy->admit({from, dest, type, to_priority(prio)}, governance::monotonic_ns());
  switch (v.kind) {
    case backpressure::admit_kind::allow:
      return policy_says::deliver;
    case backpressure::admit_kind::demote:
      prio = static_cast<std::uint8_t>(v.demote_to);
      return policy_says::deliver;
    case backpressure::admit_kind::wait:
      return policy_says::hold;
    case backpressure::admit_kind::deny:
      break;
  }
  return policy_says::refuse;
}

void log_denied(receiver_state& s, std::uint64_t id, std::string_view from, std::string_view to) {
  spdlog::error(
      "bridge {}: message {} from '{}' to '{}' is refused by a deny rule of this bus's policy "
      "(sluice limits); not delivered, counted as undeliverable",
      s.ctx->name, id, from, to);
}

// What one batch did, counted once for the status file and remembered for resends.
struct tally {
  std::vector<std::uint64_t> settled_ids;  // delivered or undeliverable: never pushed again
  std::uint64_t delivered = 0;
  std::uint64_t undeliverable = 0;
  std::uint64_t duplicates = 0;
};

// A message that will never go in (refused by the policy, or the inbox cannot take it): logged,
// counted, and settled so a resend is not pushed again.
void settle_undeliverable(receiver_state& s, tally& t, std::uint64_t id, std::string_view from,
                          std::string_view dest, bool refused_by_policy) {
  if (refused_by_policy)
    log_denied(s, id, from, dest);
  else
    log_undeliverable(s, id, from, dest);
  ++t.undeliverable;
  t.settled_ids.push_back(id);
}

void park(receiver_state& s, const std::string& dest, const wire::record& r, std::uint64_t seq,
          bool admitted = false, std::uint8_t prio = 0) {
  s.ledger.on_parked(dest);
  s.parked[dest].push_back({seq, r.id, admitted ? prio : r.prio, admitted, std::string(r.from),
                            std::string(r.type), std::string(r.payload)});
}

// Delivers records [first, last) of the batch, all for `dest`, in order.
void deliver_run(receiver_state& s, const std::string& dest, std::size_t first, std::size_t last,
                 const std::vector<char>& repeat, tally& t) {
  const auto& recs = s.in.records;
  const auto seq_of = [&](std::size_t k) { return s.in.first_seq + k; };
  auto* box = box_for(s, dest);
  auto parked_it = s.parked.find(dest);
  bool parking = parked_it != s.parked.end() && !parked_it->second.empty();
  std::size_t k = first;
  while (k < last) {
    if (repeat[k]) {
      ++t.duplicates;
      ++k;
      continue;
    }
    if (parking) {
      park(s, dest, recs[k], seq_of(k));
      ++k;
      continue;
    }
    if (box == nullptr) {
      settle_undeliverable(s, t, recs[k].id, recs[k].from, dest, false);
      ++k;
      continue;
    }
    // The longest stretch without repeats that the policy lets through goes in with one push.
    const std::size_t start = k;
    std::size_t end = k;
    s.views.clear();
    policy_says stopped = policy_says::deliver;
    while (end < last && !repeat[end]) {
      const auto& r = recs[end];
      std::uint8_t prio = r.prio;
      stopped = ask_policy(s, r.from, r.type, dest, prio);
      if (stopped != policy_says::deliver) break;
      s.views.push_back({r.from, r.type, r.payload, to_priority(prio)});
      ++end;
    }
    auto why = inbox::push_result::ok;
    const std::size_t pushed = box->try_push_batch(s.views.data(), s.views.size(), &why);
    for (std::size_t i = 0; i < pushed; ++i) t.settled_ids.push_back(recs[k + i].id);
    t.delivered += pushed;
    k += pushed;
    if (k < end && retry_later(why)) {
      // Admitted by the policy already: parked in the lane it allowed, never asked again.
      for (; k < end; ++k)
        park(s, dest, recs[k], seq_of(k), true, static_cast<std::uint8_t>(s.views[k - start].prio));
      parking = true;  // every later one for dest waits too, in order
      continue;
    }
    if (k == end) {
      if (end == last || repeat[end]) continue;
      if (stopped == policy_says::hold) {
        parking = true;  // a limit without room: this one and every later one wait, in order
        continue;
      }
      settle_undeliverable(s, t, recs[k].id, recs[k].from, dest, true);
      ++k;
      continue;
    }
    settle_undeliverable(s, t, recs[k].id, recs[k].from, dest, false);
    ++k;
  }
}

std::vector<std::uint64_t> parked_seqs(const receiver_state& s) {
  std::vector<std::uint64_t> out;
  for (const auto& [dest, q] : s.parked)
    for (const auto& m : q) out.push_back(m.seq);
  return out;
}

// Sends the grants given, and any due for batches not yet acknowledged (ack_when_idle).
void send_ack(receiver_actor* self, std::vector<std::pair<std::string, std::uint64_t>> grants) {
  auto& s = self->state;
  wire::ack a;
  a.through = s.through;
  a.parked = parked_seqs(s);
  a.grants = std::move(grants);
  a.grants.insert(a.grants.end(), s.grants_due.begin(), s.grants_due.end());
  s.grants_due.clear();
  s.ack_due = false;
  self->send(s.far_sender, bridge_ack_atom::value, wire::encode_ack(a));
}

// Acknowledges the batches delivered so far unless more wait in this actor's mailbox (batches
// that came in together): then the last of them acknowledges them all. An ack is cumulative
// and the sender commits whole reads, so nothing waits for the ones left out, and each saves
// a CAF message, a write and a wake-up of the far sender. A quiet link's batch is acknowledged
// at once (the far sender reads on while it is unacknowledged, but an ack that comes late
// meets the next message in the far sender's loop and goes first). A due ack that something
// other than a batch came before goes with the next ack or tick.
void ack_when_idle(receiver_actor* self) {
  self->state.ack_due = true;
  if (self->mailbox().empty()) send_ack(self, {});
}

void record(receiver_state& s, const tally& t) {
  if (!t.settled_ids.empty()) {
    std::lock_guard<std::mutex> lock(s.peer->m);
    for (const auto id : t.settled_ids) s.peer->delivered.insert(id);
  }
  if (t.delivered) s.peer->received.fetch_add(t.delivered, relaxed);
  if (t.undeliverable) s.peer->undeliverable.fetch_add(t.undeliverable, relaxed);
  if (t.duplicates) s.peer->duplicates.fetch_add(t.duplicates, relaxed);
}

void on_batch(receiver_actor* self, const std::string& blob) {
  auto& s = self->state;
  std::string problem;
  if (auto err = wire::read_batch(blob, s.in))
    problem = *err;
  else if (s.in.first_seq != s.through + 1)
    problem = "a batch numbered " + std::to_string(s.in.first_seq) + " where " +
              std::to_string(s.through + 1) + " was due";
  if (!problem.empty()) {
    spdlog::error("bridge {}: the peer sent {}; dropping the link", s.ctx->name, problem);
    self->quit(caf::exit_reason::user_shutdown);
    return;
  }
  const auto& recs = s.in.records;
  const std::size_t n = recs.size();
  std::vector<char> repeat(n, 0);
  {
    std::lock_guard<std::mutex> lock(s.peer->m);
    for (std::size_t i = 0; i < n; ++i) repeat[i] = s.peer->delivered.contains(recs[i].id) ? 1 : 0;
  }
  tally t;
  std::vector<std::string> dests;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && recs[j].dest == recs[i].dest) ++j;
    std::string dest(recs[i].dest);
    s.ledger.on_received(dest, j - i);
    deliver_run(s, dest, i, j, repeat, t);
    if (std::find(dests.begin(), dests.end(), dest) == dests.end()) dests.push_back(dest);
    i = j;
  }
  s.through = s.in.first_seq + n - 1;
  record(s, t);
  for (const auto& d : dests) {
    auto& g = s.grants_due[d];
    g = std::max(g, s.ledger.limit(d, free_slots(s, d)));
  }
  ack_when_idle(self);
}

// Parked messages go in as their inboxes make room; fresh credit goes out for every
// destination that has more room than granted so far.
void on_tick(receiver_actor* self) {
  auto& s = self->state;
  tally t;
  bool unparked = false;
  for (auto it = s.parked.begin(); it != s.parked.end();) {
    auto& [dest, q] = *it;
    auto* box = box_for(s, dest);
    while (!q.empty()) {
      auto& m = q.front();
      bool refused = false;
      if (!m.admitted) {
        const policy_says says = ask_policy(s, m.from, m.type, dest, m.prio);
        if (says == policy_says::hold) break;
        refused = says == policy_says::refuse;
        m.admitted = !refused;
      }
      const auto r = refused || box == nullptr
                         ? inbox::push_result::broken
                         : box->try_push({m.from, m.type, m.payload, to_priority(m.prio)});
      if (retry_later(r)) break;
      if (r == inbox::push_result::ok) {
        ++t.delivered;
        t.settled_ids.push_back(m.id);
      } else {
        settle_undeliverable(s, t, m.id, m.from, dest, refused);
      }
      s.ledger.on_unparked(dest);
      q.pop_front();
      unparked = true;
    }
    it = q.empty() ? s.parked.erase(it) : std::next(it);
  }
  record(s, t);
  std::vector<std::pair<std::string, std::uint64_t>> grants;
  for (const auto& dest : s.ledger.destinations())
    if (auto g = s.ledger.fresh_grant(dest, free_slots(s, dest))) grants.emplace_back(dest, *g);
  if (unparked || !grants.empty() || s.ack_due) send_ack(self, std::move(grants));
  link_timer(self, receiver_tick, tick_atom::value);
}

// The first grant for each destination the far sender asked about.
void answer_wants(receiver_actor* self, std::vector<std::string> names) {
  auto& s = self->state;
  std::vector<std::pair<std::string, std::uint64_t>> grants;
  for (const auto& d : names) grants.emplace_back(d, s.ledger.limit(d, free_slots(s, d)));
  send_ack(self, std::move(grants));
}

caf::behavior bridge_receiver(receiver_actor* self, std::shared_ptr<bridge_context> ctx,
                              std::string peer) {
  auto& s = self->state;
  s.peer = ctx->peer(peer);
  s.ctx = std::move(ctx);
  s.policy.emplace(s.ctx->bus_dir);
  self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
  return {
      [self](bridge_start_atom, const caf::actor& far_sender, const caf::actor& far_receiver) {
        self->state.far_sender = far_sender;
        self->monitor(far_sender);
        self->monitor(far_receiver);
        // The first tick runs here, not as a message to itself (link_timer.hpp says why).
        on_tick(self);
        if (!self->state.early_wants.empty())
          answer_wants(self, std::exchange(self->state.early_wants, {}));
      },
      [self](tick_atom) { on_tick(self); },
      [self](bridge_want_atom, const std::string& blob) {
        auto& st = self->state;
        auto names = wire::decode_names(blob);
        if (!names) {
          spdlog::error("bridge {}: the peer sent a malformed credit request; dropping the link",
                        st.ctx->name);
          self->quit(caf::exit_reason::user_shutdown);
          return;
        }
        // Not started: an answer now would go nowhere (no far sender yet), while the ledger
        // would count the grant as given; no tick repeats a grant until the inbox's room
        // changes, so the far sender, which asks once, would wait on that destination.
        if (!st.far_sender) {
          st.early_wants.insert(st.early_wants.end(), names->begin(), names->end());
          return;
        }
        answer_wants(self, std::move(*names));
      },
      [self](bridge_batch_atom, const std::string& blob) { on_batch(self, blob); },
  };
}

}  // namespace

caf::actor spawn_bridge_receiver(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                                 std::string peer) {
  return sys.middleman().spawn_broker(bridge_receiver, std::move(ctx), std::move(peer));
}

}  // namespace sluice::actors
