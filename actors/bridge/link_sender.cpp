// The sending half of a bridge connection: reads the outbound inbox bridge-<peer> (and the
// peer's holding inboxes, held_inbox.hpp), puts the messages that have credit on the wire in
// batches of many (wire.hpp), and commits each inbox as far as its messages are acknowledged
// or moved. It reads on while earlier messages are on the wire (inbox::consumer::pop_next),
// so a message published while the last one's acknowledgement is on its way leaves at once.
// All flow-control arithmetic lives in send_window (credit.hpp); this actor moves bytes and
// keeps the counters bridge-<peer>.json shows.
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
#include <new>
#include <optional>
#include <set>
#include <vector>

#include "actors/bridge/fd_watch.hpp"
#include "actors/bridge/held_inbox.hpp"
#include "actors/bridge/link.hpp"
#include "actors/bridge/link_timer.hpp"
#include "actors/bridge/wire.hpp"
#include "backpressure/address.hpp"
#include "inbox/bell.hpp"

namespace sluice::actors {

namespace {

using pump_atom = caf::atom_constant<caf::atom("bpump")>;
using spill_atom = caf::atom_constant<caf::atom("bspill")>;
using recheck_atom = caf::atom_constant<caf::atom("brecheck")>;

// Another sender (an older connection's, not yet down) may still hold the outbound inbox.
constexpr auto attach_retry = std::chrono::milliseconds(20);
// How long an outbound batch may wait on destinations whose credit is used up (while more
// messages wait behind it) before their messages are moved into holding inboxes. A batch of a
// busy link settles in about a millisecond; a destination that keeps one waiting this long is
// full or far slower than the rest, and is the only one that then takes the detour.
constexpr auto spill_after = std::chrono::milliseconds(100);

constexpr auto relaxed = std::memory_order_relaxed;  // display counters, see bridge_peer
constexpr send_window::source_id outbound_source = 0;

// One inbox the sender consumes, with what it read and has not committed yet: its window in
// send_window, where the message at index i is buf[i - win.begin(id)].
struct source {
  std::string dest;  // "" for the outbound inbox, else the holding inbox's destination
  send_window::source_id id = 0;
  std::optional<inbox::inbox> box;  // declared before cons: the inbox outlives its consumer
  std::optional<inbox::consumer> cons;
  std::deque<inbox::received_message> buf;  // views into the inbox, valid until committed
  std::deque<wire::record> records;         // per message, views into the inbox
  std::deque<bool> resend;                  // sent by an earlier connection already
  // Each read not yet committed: the window index it ends at and its batch number.
  struct read {
    std::size_t end;
    std::uint64_t batch;
    std::chrono::steady_clock::time_point at;
  };
  std::deque<read> reads;
  std::vector<inbox::received_message> scratch;
};

struct sender_state {
  std::shared_ptr<bridge_context> ctx;
  std::shared_ptr<bridge_peer> peer;
  std::string peer_name;
  std::string outbound_name;
  caf::actor far_receiver;
  send_window win;
  wire::batch_writer writer;
  // Declared in this order so the holding inboxes' consumer locks are released before the
  // outbound inbox's: whoever takes the outbound inbox next then finds them free.
  std::optional<source> outbound;
  std::map<std::string, source> held;  // by destination
  send_window::source_id next_source = 1;
  // The most messages a window holds: half the inbox (attach). Reading does not free a slot
  // (only the commit after the acknowledgement does), so the bound is not what leaves the
  // producer room; it caps what a dropped link sends again. Reading the whole inbox measured
  // no faster (bench/README.md, 2026-12-07 afternoon).
  std::size_t batch = 512;
  // The outbound inbox's bell, watched by CAF's I/O loop: a producer that finds this sender
  // waiting rings it, and the loop wakes this broker in its own thread. Declared before the
  // watch, which must let go of the descriptor first.
  std::optional<inbox::bell> bell;
  std::unique_ptr<fd_watch> bell_watch;
  bool watching = false;         // the bell is armed on the outbound consumer
  bool recheck_pending = false;  // a bell_recheck timer is on its way
  bool spill_pending = false;
  bool open_error_logged = false;
  std::set<std::string> open_failures_logged;  // holding inboxes that could not be opened
  static inline const char* name = "sluice.bridge.sender";

  // What this connection put on the wire and did not commit goes out again on the next one,
  // which then counts it as resent (read_more). Logged here, as the connection ends and
  // before its consumer locks are let go, rather than as each message is sent. Called from
  // the destructor: out of memory costs only the count (they go out again as "sent").
  void log_unsettled_sends() noexcept {
    std::lock_guard<std::mutex> lock(peer->m);
    auto log = [&](const source& src) {
      // The two always hold the same messages; bounded by both.
      const auto n = std::min(src.records.size(), win.end(src.id) - win.begin(src.id));
      for (std::size_t k = 0; k < n; ++k) {
        const auto st = win.state_of(src.id, win.begin(src.id) + k);
        if (st == send_window::state::sent || st == send_window::state::acked)
          peer->transmitted[src.dest].insert(src.records[k].id);
      }
    };
    try {
      if (outbound) log(*outbound);
      for (const auto& [dest, src] : held) log(src);
    } catch (const std::bad_alloc&) {
      spdlog::error(
          "bridge {}: out of memory recording what the link to '{}' left unsettled; the next "
          "connection counts those messages as sent, not resent",
          ctx->name, peer_name);
    }
  }

  ~sender_state() {
    if (watching && outbound && outbound->cons) outbound->cons->disarm();
    bell_watch.reset();
    if (peer) {
      log_unsettled_sends();
      peer->in_flight.store(0, relaxed);
      peer->credits.store(0, relaxed);
    }
  }
};

using sender_actor = caf::io::stateful_broker<sender_state>;

void publish_window(sender_state& s) {
  s.peer->credits.store(s.win.credits(), relaxed);
  s.peer->in_flight.store(s.win.in_flight(), relaxed);
}

source* source_of(sender_state& s, send_window::source_id id) {
  if (id == outbound_source) return s.outbound ? &*s.outbound : nullptr;
  for (auto& [dest, src] : s.held)
    if (src.id == id) return &src;
  return nullptr;
}

// ---- reading -------------------------------------------------------------------------------

// Reads on in src, up to the window's bound, and appends what came to its window; returns how
// many messages came.
std::size_t read_more(sender_actor* self, source& src) {
  auto& s = self->state;
  const std::size_t held = src.buf.size();
  if (held >= s.batch) return 0;
  src.scratch.resize(s.batch - held);
  std::uint64_t batch = 0;
  const std::size_t n = src.cons->pop_next(src.scratch.data(), src.scratch.size(), batch);
  if (n == 0) return 0;
  src.buf.insert(src.buf.end(), src.scratch.begin(), src.scratch.begin() + n);
  src.reads.push_back({s.win.end(src.id) + n, batch, std::chrono::steady_clock::now()});
  std::vector<send_window::entry> entries(n);
  std::vector<wire::record> records(n);
  std::size_t undeliverable = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& m = src.scratch[i];
    std::string_view payload = m.payload;
    std::uint64_t id = m.id;
    bool ok = true;
    if (!src.dest.empty()) {
      const auto h = parse_held_payload(payload);
      ok = h.has_value();
      if (h) {
        id = h->id;
        payload = h->payload;
      }
    }
    const auto env = ok ? backpressure::unwrap_envelope(payload) : std::nullopt;
    if (!env) {
      spdlog::warn(
          "bridge {}: message {} from '{}' in {} has no '<agent>\\n' envelope; not forwarded "
          "(counted as undeliverable; send to agent@{} instead)",
          s.ctx->name, m.id, m.from, src.dest.empty() ? s.outbound_name : "a holding inbox",
          s.peer_name);
      ++undeliverable;
    }
    entries[i] = {id, env ? env->agent : std::string_view{}, !env};
    records[i] = {
        id,     static_cast<std::uint8_t>(m.prio),     m.from,
        m.type, env ? env->agent : std::string_view{}, env ? env->payload : std::string_view{}};
  }
  src.records.insert(src.records.end(), records.begin(), records.end());
  if (undeliverable > 0) s.peer->undeliverable.fetch_add(undeliverable, relaxed);
  // What an earlier connection sent of these counts as resent when it goes again.
  std::vector<bool> resend(n, false);
  {
    std::lock_guard<std::mutex> lock(s.peer->m);
    if (src.dest.empty() && !s.peer->moved.empty())
      for (auto& e : entries) e.moved = s.peer->moved.count(e.id) != 0;
    const auto it = s.peer->transmitted.find(src.dest);
    if (it != s.peer->transmitted.end() && !it->second.empty())
      for (std::size_t i = 0; i < n; ++i) resend[i] = it->second.count(entries[i].id) != 0;
  }
  src.resend.insert(src.resend.end(), resend.begin(), resend.end());
  s.win.append(src.id, entries, src.dest.empty());
  return n;
}

// dest's holding source, numbered for the window on first use.
source& held_for(sender_state& s, const std::string& dest) {
  auto [it, added] = s.held.try_emplace(dest);
  if (added) {
    it->second.dest = dest;
    it->second.id = s.next_source++;
  }
  return it->second;
}

// Without a bell the sender still sends, only later: it finds new messages at the recheck.
void open_bell(sender_actor* self) {
  auto& s = self->state;
  auto b = inbox::bell::open();
  if (!b) {
    spdlog::warn(
        "bridge {}: no bell for {} ({}); messages to '{}' wait up to {} ms before they leave",
        s.ctx->name, s.outbound_name, b.err().message, s.peer_name, s.ctx->bell_recheck.count());
    return;
  }
  s.bell.emplace(std::move(b.value()));
  s.bell_watch = std::make_unique<fd_watch>(self->system(), s.bell->fd(),
                                            [&s, me = caf::actor_cast<caf::actor>(self)] {
                                              // The pump arms the bell again, which drains it.
                                              s.bell->take_one();
                                              // To this broker's mailbox, from its own thread: it
                                              // runs in this round of the loop.
                                              caf::anon_send(me, pump_atom::value);
                                            });
  if (!s.bell_watch->watching()) {
    spdlog::warn("bridge {}: cannot watch the bell of {}; messages to '{}' wait up to {} ms",
                 s.ctx->name, s.outbound_name, s.peer_name, s.ctx->bell_recheck.count());
    s.bell_watch.reset();
    s.bell.reset();
  }
}

bool attach(sender_actor* self) {
  auto& s = self->state;
  if (!s.outbound) {
    auto b = inbox::inbox::open_or_create(s.ctx->bus_dir, s.outbound_name, s.ctx->inbox_opts);
    if (!b) {
      if (!s.open_error_logged)
        spdlog::error("bridge {}: cannot open outbound inbox {}: {}", s.ctx->name, s.outbound_name,
                      b.err().message);
      s.open_error_logged = true;
      return false;
    }
    s.outbound.emplace();
    s.outbound->id = outbound_source;
    s.outbound->box.emplace(std::move(b.value()));
  }
  auto c = s.outbound->box->attach_consumer();
  if (!c) return false;
  s.outbound->cons.emplace(std::move(c.value()));
  // Half the inbox (sender_state::batch says why).
  s.batch = std::clamp<std::size_t>(s.outbound->box->capacity() / 2, 1, s.ctx->batch);
  if (!s.bell) open_bell(self);
  // Holding inboxes an earlier process left: their destinations keep spilling until drained.
  for (const auto& dest : held_destinations(s.ctx->bus_dir, s.peer_name)) {
    s.win.set_spilling(dest, outbound_source);
    (void)held_for(s, dest);
  }
  spdlog::debug("bridge {}: consuming {}", s.ctx->name, s.outbound_name);
  return true;
}

// Opens dest's holding inbox and takes its consumer lock; false if that is not possible now.
bool open_held(sender_actor* self, const std::string& dest, source& src) {
  auto& s = self->state;
  if (!src.box) {
    auto b = open_held_inbox(s.ctx->bus_dir, s.peer_name, dest, s.outbound->box->snapshot());
    if (!b) {
      if (s.open_failures_logged.insert(dest).second)
        spdlog::error(
            "bridge {}: cannot open the holding inbox for '{}@{}': {}; its messages keep the "
            "outbound batch waiting",
            s.ctx->name, dest, s.peer_name, b.err().message);
      return false;
    }
    src.box.emplace(std::move(b.value()));
  }
  if (!src.cons) {
    auto c = src.box->attach_consumer();
    if (!c) return false;
    src.cons.emplace(std::move(c.value()));
  }
  return true;
}

void update_held_count(sender_state& s) {
  std::uint64_t n = 0;
  for (auto& [dest, src] : s.held)
    if (src.box) n += src.box->size();
  s.peer->held.store(n, relaxed);
}

// ---- writing -------------------------------------------------------------------------------

void flush(sender_actor* self) {
  auto& s = self->state;
  if (s.writer.empty()) return;
  self->send(s.far_receiver, bridge_batch_atom::value, s.writer.take());
}

void send_ready(sender_actor* self) {
  auto& s = self->state;
  std::uint64_t sent = 0;
  std::uint64_t resent = 0;
  s.win.take_sendable([&](send_window::source_id id, std::size_t i, std::uint64_t seq) {
    auto* src = source_of(s, id);
    const std::size_t k = i - s.win.begin(id);
    const auto& r = src->records[k];
    if (!s.writer.empty() && !s.writer.fits(r)) flush(self);
    if (s.writer.empty()) s.writer.start(seq);
    s.writer.add(r);
    ++(src->resend[k] ? resent : sent);
  });
  flush(self);
  if (sent + resent > 0) {
    s.peer->sent.fetch_add(sent, relaxed);
    s.peer->resent.fetch_add(resent, relaxed);
  }
  auto wants = s.win.take_wants();
  if (!wants.empty())
    self->send(s.far_receiver, bridge_want_atom::value, wire::encode_names(wants));
}

// ---- the loop ------------------------------------------------------------------------------

void pump(sender_actor* self);

// Moves the outbound batch's diverted messages into their holding inboxes, in order; a
// destination whose holding inbox is full keeps the rest for a later try.
void move_diverted(sender_actor* self) {
  auto& s = self->state;
  if (!s.outbound || !s.win.loaded(outbound_source)) return;
  std::set<std::string> blocked;
  for (const auto i : s.win.movable(outbound_source)) {
    const auto& dest = s.win.dest_of(outbound_source, i);
    if (blocked.count(dest) != 0) continue;
    auto& src = held_for(s, dest);
    if (!open_held(self, dest, src)) {
      blocked.insert(dest);
      continue;
    }
    const auto& m = s.outbound->buf[i - s.win.begin(outbound_source)];
    const auto payload = held_payload(m.id, m.payload);
    if (src.box->try_push({m.from, m.type, payload, m.prio}) != inbox::push_result::ok) {
      blocked.insert(dest);
      continue;
    }
    s.win.mark_moved(outbound_source, i);
    std::lock_guard<std::mutex> lock(s.peer->m);
    s.peer->moved.insert(m.id);
  }
  update_held_count(s);
  if (!blocked.empty() && !s.spill_pending) {
    s.spill_pending = true;
    link_timer(self, spill_after, spill_atom::value);
  }
}

// Commits src's window as far as its front is settled, a whole read at a time; false when
// there is nothing to commit.
bool commit_settled(sender_state& s, source& src) {
  const std::size_t settled = s.win.settled_through(src.id);
  std::optional<source::read> last;
  while (!src.reads.empty() && src.reads.front().end <= settled) {
    last = src.reads.front();
    src.reads.pop_front();
  }
  if (!last) return false;
  // Every message of a settled read is in its destination inbox on the far bus or in a
  // holding inbox here: only now may it leave its inbox (at-least-once across link drops and
  // crashes of either bridge).
  if (!src.cons->commit_through(last->batch))
    spdlog::error("bridge {}: lost track of a read from {}; its messages may be sent again",
                  s.ctx->name, src.dest.empty() ? s.outbound_name : "a holding inbox");
  const auto n = static_cast<std::ptrdiff_t>(last->end - s.win.begin(src.id));
  {
    // Both are empty on a link that has not dropped: nothing to walk then.
    std::lock_guard<std::mutex> lock(s.peer->m);
    auto& log = s.peer->transmitted[src.dest];
    auto& moved = s.peer->moved;
    const bool forget_moved = src.dest.empty() && !moved.empty();
    if (!log.empty() || forget_moved) {
      for (auto r = src.records.begin(); r != src.records.begin() + n; ++r) {
        log.erase(r->id);
        if (forget_moved) moved.erase(r->id);
      }
    }
  }
  src.buf.erase(src.buf.begin(), src.buf.begin() + n);
  src.records.erase(src.records.begin(), src.records.begin() + n);
  src.resend.erase(src.resend.begin(), src.resend.begin() + n);
  s.win.drop_through(src.id, last->end);
  return true;
}

// Whether src's front is settled through at least one whole read (commit_settled would act).
bool committable(const sender_state& s, const source& src) {
  return !src.reads.empty() && src.reads.front().end <= s.win.settled_through(src.id);
}

// How many messages src's window may hold: it reads on while at most one earlier read is on
// the wire. A message that comes while the last one is unacknowledged leaves at once, but
// under load the sender then waits for an acknowledgement and reads all that gathered
// meanwhile in one batch. Measured with sluice-bench bridge, alternating builds: one read on
// the wire at a time, p50 59-61 us; two, 43-45 us in 8 runs of 9 and about 8 % less
// throughput (more, smaller batches, we think); unbounded, or more while the window is small,
// p50 near 70 us in most runs.
std::size_t window_bound(const sender_state& s, const source& src) {
  constexpr std::size_t reads_on_the_wire = 2;
  return src.reads.size() < reads_on_the_wire ? s.batch : 0;
}

// Nothing more to read: waits for the bell (acknowledgements of what is on the wire come
// meanwhile), and looks again now and then for a producer that cannot ring it. false when a
// message came in since the read (nothing armed: read it).
bool wait_for_bell(sender_actor* self) {
  auto& s = self->state;
  // A broken inbox (inbox.hpp) reads as empty and refuses to arm: only the recheck is left,
  // or this loop would spin.
  if (s.bell && !s.outbound->cons->arm(*s.bell) && !s.outbound->box->broken()) return false;
  s.watching = true;
  if (!s.recheck_pending) {
    s.recheck_pending = true;
    // A producer in another network namespace cannot reach the bell (bell.hpp).
    link_timer(self, s.ctx->bell_recheck, recheck_atom::value);
  }
  return true;
}

// Commits each source's settled front, reads on, sends what may go.
void pump(sender_actor* self) {
  auto& s = self->state;
  if (!s.outbound || !s.outbound->cons) {
    if (!attach(self)) {
      link_timer(self, attach_retry, pump_atom::value);
      return;
    }
  }
  for (bool progress = true; progress;) {
    progress = false;
    if (commit_settled(s, *s.outbound)) progress = true;
    for (auto& [dest, src] : s.held) {
      if (src.cons && commit_settled(s, src)) progress = true;
    }
    // A commit may have made room in a holding inbox for messages still diverted, and an
    // acknowledgement may have let them move (nothing held back before them any more).
    move_diverted(self);
    if (committable(s, *s.outbound)) {
      // The move settled the front: commit it on the next pass. Nothing else would come back
      // here: no message before it is in flight to be acknowledged, and while the far inbox's
      // room does not change no fresh grant comes either.
      progress = true;
      continue;
    }
    // Read even while the bell is armed: an acknowledgement often wakes this sender just
    // before the bell's datagram of a message already there, which then leaves one loop
    // round sooner. A bell rung for a message read here only wakes the sender for nothing.
    if (s.outbound->buf.size() < window_bound(s, *s.outbound)) {
      if (read_more(self, *s.outbound) > 0) {
        progress = true;
        move_diverted(self);
      } else if (!s.watching) {
        progress = !wait_for_bell(self);
      }
    }
    std::set<std::string> still_diverted;
    for (const auto i : s.win.diverted(outbound_source))
      still_diverted.insert(s.win.dest_of(outbound_source, i));
    for (auto it = s.held.begin(); it != s.held.end();) {
      auto& [dest, src] = *it;
      if (!open_held(self, dest, src) || s.win.loaded(src.id)) {
        ++it;
        continue;
      }
      if (read_more(self, src) > 0) {
        progress = true;
      } else if (src.box->size() == 0 && still_diverted.count(dest) == 0) {
        // Drained: d's messages take the direct path again, behind everything sent from here.
        s.win.clear_spilling(dest);
        src.cons.reset();
        src.box.reset();
        remove_held_inbox(s.ctx->bus_dir, s.peer_name, dest);
        it = s.held.erase(it);
        continue;
      }
      ++it;
    }
    send_ready(self);
  }
  update_held_count(s);
  // Only a batch that waits on used-up credit can need the detour; the check then runs once
  // per spill_after, not once per batch.
  if (!s.spill_pending && s.win.loaded(outbound_source) && !s.win.complete(outbound_source) &&
      !s.win.blocked(outbound_source).empty()) {
    s.spill_pending = true;
    link_timer(self, spill_after, spill_atom::value);
  }
  publish_window(s);
}

// The outbound window's front has waited long on used-up credit while messages wait behind
// the window: those destinations' messages leave it for their holding inboxes, so it can be
// committed and the others go on.
void on_spill_timer(sender_actor* self) {
  auto& s = self->state;
  s.spill_pending = false;
  if (!s.outbound || !s.win.loaded(outbound_source) || s.outbound->reads.empty()) return;
  const auto age = std::chrono::steady_clock::now() - s.outbound->reads.front().at;
  const bool others_wait = s.outbound->box->size() > s.outbound->buf.size();
  if (age >= spill_after && others_wait) {
    for (const auto& dest : s.win.blocked(outbound_source)) {
      spdlog::info(
          "bridge {}: inbox '{}' on '{}' is full or slow; holding its messages here so the "
          "others go on",
          s.ctx->name, dest, s.peer_name);
      s.win.set_spilling(dest, outbound_source);
    }
  }
  move_diverted(self);
  pump(self);
}

// The bell rang, or it is time to look again: the next pump reads the inbox and arms the bell
// again if it is still empty.
void wake(sender_actor* self) {
  auto& s = self->state;
  if (s.watching) {
    s.watching = false;
    if (s.bell) s.outbound->cons->disarm();
  }
  pump(self);
}

caf::behavior bridge_sender(sender_actor* self, std::shared_ptr<bridge_context> ctx,
                            std::string peer) {
  auto& s = self->state;
  s.peer = ctx->peer(peer);
  s.ctx = std::move(ctx);
  s.peer_name = peer;
  s.outbound_name = backpressure::outbound_inbox(peer);
  self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
  return {
      [self](bridge_start_atom, const caf::actor& far_sender, const caf::actor& far_receiver) {
        self->state.far_receiver = far_receiver;
        self->monitor(far_sender);
        self->monitor(far_receiver);
        pump(self);
      },
      [self](pump_atom) { wake(self); },
      [self](recheck_atom) {
        self->state.recheck_pending = false;
        wake(self);
      },
      [self](spill_atom) { on_spill_timer(self); },
      [self](bridge_ack_atom, const std::string& blob) {
        auto& st = self->state;
        const auto a = wire::decode_ack(blob);
        if (!a) {
          spdlog::error("bridge {}: '{}' sent a malformed acknowledgement; dropping the link",
                        st.ctx->name, st.peer_name);
          self->quit(caf::exit_reason::user_shutdown);
          return;
        }
        for (const auto& [dest, limit] : a->grants) st.win.grant(dest, limit);
        if (const auto n = st.win.on_ack(a->through, a->parked))
          st.peer->acked.fetch_add(n, relaxed);
        pump(self);
      },
  };
}

}  // namespace

caf::actor spawn_bridge_sender(caf::actor_system& sys, std::shared_ptr<bridge_context> ctx,
                               std::string peer) {
  return sys.middleman().spawn_broker(bridge_sender, std::move(ctx), std::move(peer));
}

}  // namespace sluice::actors
