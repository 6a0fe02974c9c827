// `sluice bridge`: the acceptor (listening side, any number of peers), one dialer per
// --connect (reconnects with backoff), the status reporter, and run_bridge, which wires them
// to an actor system with the caf::io middleman (and caf::openssl for TLS). TCP itself and the
// authentication belong to the front door (front_door.hpp): CAF gets each connection only once
// the peer has authenticated, by the two doors CAF 0.17's BASP broker has for connections it
// did not open itself: (publish_atom, scribe, port, actor, signatures) on the listening side
// and (connect_atom, scribe, port) on the connecting side. The link actors themselves are in
// link_sender.cpp and link_receiver.cpp.
#include "actors/bridge/bridge.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/scribe.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "actors/bridge/auth.hpp"
#include "actors/bridge/capped_scribe.hpp"
#include "actors/bridge/front_door.hpp"
#include "actors/bridge/link.hpp"
#include "actors/bridge/tls_files.hpp"
#include "backpressure/address.hpp"
#include "backpressure/backoff.hpp"
#include "backpressure/random_source.hpp"
#include "runtime/bridge_status.hpp"
#include "runtime/config.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/metric_sink.hpp"
#include "runtime/stop_signals.hpp"
#include "runtime/timestamp.hpp"

namespace sluice::actors {

namespace {

using dial_atom = caf::atom_constant<caf::atom("bdial")>;
using report_atom = caf::atom_constant<caf::atom("breport")>;
using done_atom = caf::atom_constant<caf::atom("bdone")>;
using bridge_admit_atom = caf::atom_constant<caf::atom("badmit")>;
using bridge_expire_atom = caf::atom_constant<caf::atom("bexpire")>;
using bridge_refused_atom = caf::atom_constant<caf::atom("brefused")>;
using bridge_failed_atom = caf::atom_constant<caf::atom("bfailed")>;
using tls_failed_atom = caf::atom_constant<caf::atom("btlsfail")>;

// CAF's own handshake and the link request, once the front door has authenticated the peer.
constexpr auto link_setup_timeout = std::chrono::seconds(5);
// How long an authenticated peer has to link over CAF before its connection is cut: a
// multiple of the front door's handshake deadline, and never under 2 s, since this is a peer
// that passed the handshake, only slow.
constexpr int ticket_lifetimes = 2;
constexpr auto min_ticket_lifetime = std::chrono::seconds(2);
constexpr auto report_interval = std::chrono::milliseconds(200);
constexpr int reports_per_metric = 5;  // metric lines once a second
// Reconnect: 100 ms doubling to 5 s, full jitter, but never faster than 50 ms.
constexpr backpressure::backoff_config reconnect_backoff{std::chrono::milliseconds(100),
                                                         std::chrono::seconds(5)};
constexpr auto min_reconnect = std::chrono::milliseconds(50);

constexpr auto relaxed = std::memory_order_relaxed;  // display counters, see bridge_peer

using auth_reply =
    std::tuple<bool, std::string, caf::actor, caf::actor>;  // ok, why, sender, receiver

struct link_pair {
  caf::actor sender;
  caf::actor receiver;
};

link_pair spawn_links(caf::actor_system& sys, const std::shared_ptr<bridge_context>& ctx,
                      const std::string& peer) {
  return {spawn_bridge_sender(sys, ctx, peer), spawn_bridge_receiver(sys, ctx, peer)};
}

void start_links(const link_pair& mine, const caf::actor& far_sender,
                 const caf::actor& far_receiver) {
  caf::anon_send(mine.sender, bridge_start_atom::value, far_sender, far_receiver);
  caf::anon_send(mine.receiver, bridge_start_atom::value, far_sender, far_receiver);
}

// How a link is protected, for the log line that says it is up.
const char* link_kind(const bridge_context& ctx) {
  if (ctx.tls) return ctx.secret.empty() ? " (TLS)" : " (TLS, authenticated)";
  return ctx.secret.empty() ? "" : " (authenticated)";
}

// The scribe options for a connection whose TLS failure goes to `side` as
// (tls_failed_atom, ticket, why, refused).
scribe_options scribe_for(const std::string& bridge, bool tls, bool accepted,
                          const caf::actor& side, const std::string& ticket) {
  scribe_options o;
  o.bridge = bridge;
  o.tls = tls;
  o.accepted = accepted;
  if (tls)
    o.on_tls_failure = [side, ticket](const std::string& why, bool refused) {
      caf::anon_send(side, tls_failed_atom::value, ticket, why, refused);
    };
  return o;
}

void stop_links(const link_pair& p) {
  if (p.sender) caf::anon_send_exit(p.sender, caf::exit_reason::user_shutdown);
  if (p.receiver) caf::anon_send_exit(p.receiver, caf::exit_reason::user_shutdown);
}

// ---- listening side -------------------------------------------------------------------------

// A connection that passed the front door's handshake, until its peer links over CAF.
struct admitted_peer {
  std::string peer;
  caf::io::scribe_ptr scribe;  // held only to cut the connection if the peer never links
  std::uint64_t order = 0;     // admissions count up: the smallest is the oldest
};

struct acceptor_state {
  std::shared_ptr<bridge_context> ctx;
  const void* owner = nullptr;  // this acceptor, as the owner of the links it claims
  caf::actor basp;              // CAF's BASP broker: takes each admitted connection
  std::uint16_t port = 0;       // the listening port, under which the acceptor is published
  std::chrono::nanoseconds ticket_lifetime{};
  // Without a secret anyone passes the handshake, so connections waiting to link are limited
  // like those in the handshake: the oldest is cut to make room.
  std::size_t max_unlinked = 0;
  std::uint64_t admissions = 0;
  std::map<std::string, admitted_peer> tickets;  // ticket -> the peer it was issued to
  std::map<std::string, link_pair> links;        // peer -> local pair
  static inline const char* name = "sluice.bridge.acceptor";
  ~acceptor_state() {
    for (auto& [peer, pair] : links) {
      stop_links(pair);
      if (ctx) ctx->release(peer, owner);
    }
  }
};

using acceptor_actor = caf::stateful_actor<acceptor_state>;

// A refused peer's link shows it, if the peer ever had one: a name given by someone who did
// not authenticate must not create status files.
void mark_refused(bridge_context& ctx, const std::string& peer, const std::string& why) {
  if (auto p = ctx.find_peer(peer)) p->set_state("refused", why);
}

std::string refuse(bridge_context& ctx, const std::string& peer, std::string why) {
  spdlog::error("bridge {}: refused peer '{}': {}", ctx.name, peer, why);
  mark_refused(ctx, peer, why);
  return why;
}

caf::behavior acceptor(acceptor_actor* self, std::shared_ptr<bridge_context> ctx, caf::actor basp,
                       std::uint16_t port, front_door_limits limits) {
  auto& s = self->state;
  s.ctx = std::move(ctx);
  s.owner = &s;
  s.basp = std::move(basp);
  s.port = port;
  s.max_unlinked = limits.max_unauthenticated;
  s.ticket_lifetime = std::max<std::chrono::nanoseconds>(
      min_ticket_lifetime, ticket_lifetimes * limits.handshake_timeout);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto it = self->state.links.begin(); it != self->state.links.end(); ++it) {
      if (it->second.sender.address() != dm.source && it->second.receiver.address() != dm.source)
        continue;
      stop_links(it->second);
      self->state.ctx->release(it->first, self->state.owner);
      self->state.ctx->peer(it->first)->set_state("disconnected");
      spdlog::info("bridge {}: link to '{}' is down ({})", self->state.ctx->name, it->first,
                   to_string(dm.reason));
      self->state.links.erase(it);
      return;
    }
  });
  return {
      // From the front door: a peer passed the handshake. CAF takes the connection as if its
      // own doorman had accepted it, and sends its server handshake with this actor in it.
      [self](bridge_admit_atom, const std::string& peer, const std::string& ticket,
             caf::io::scribe_ptr& scribe) {
        auto& st = self->state;
        if (st.tickets.size() >= st.max_unlinked) {
          auto oldest = std::min_element(
              st.tickets.begin(), st.tickets.end(),
              [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
          spdlog::warn(
              "bridge {}: {} connections are waiting to link; closed the oldest, from '{}'",
              st.ctx->name, st.tickets.size(), oldest->second.peer);
          cut_connection(oldest->second.scribe);
          st.tickets.erase(oldest);
        }
        st.tickets[ticket] = {peer, scribe, ++st.admissions};
        self->send(st.basp, caf::publish_atom_v, std::move(scribe), st.port,
                   caf::actor_cast<caf::strong_actor_ptr>(self), std::set<std::string>{});
        self->delayed_send(self, st.ticket_lifetime, bridge_expire_atom::value, ticket);
      },
      // The peer's TLS did not come up: a certificate not from our CA (or ours not from its),
      // or the connection broke during the TLS handshake. CAF has closed it already.
      [self](tls_failed_atom, const std::string& ticket, const std::string& why, bool refused) {
        auto& st = self->state;
        const auto it = st.tickets.find(ticket);
        const std::string peer = it == st.tickets.end() ? std::string("?") : it->second.peer;
        if (it != st.tickets.end()) st.tickets.erase(it);
        if (refused)
          refuse(*st.ctx, peer, "TLS: " + why);
        else
          spdlog::warn("bridge {}: TLS with '{}' failed: {}", st.ctx->name, peer, why);
      },
      [self](bridge_expire_atom, const std::string& ticket) {
        auto& st = self->state;
        const auto it = st.tickets.find(ticket);
        if (it == st.tickets.end()) return;
        spdlog::warn("bridge {}: peer '{}' authenticated but did not link; closed its connection",
                     st.ctx->name, it->second.peer);
        cut_connection(it->second.scribe);
        st.tickets.erase(it);
      },
      [self](bridge_auth_atom, const std::string& ticket, const caf::actor& far_sender,
             const caf::actor& far_receiver) -> auth_reply {
        auto& s = self->state;
        const auto it = s.tickets.find(ticket);
        if (it == s.tickets.end())
          return {false, refuse(*s.ctx, "?", "unknown or expired ticket"), {}, {}};
        const std::string peer = it->second.peer;
        s.tickets.erase(it);
        if (!far_sender || !far_receiver)
          return {false, refuse(*s.ctx, peer, "it sent no link actors"), {}, {}};
        if (!s.ctx->claim(peer, s.owner)) {
          spdlog::error(
              "bridge {}: peer '{}' is linked already, through a --connect of this bridge; "
              "refused its second link (join each pair of bridges once)",
              s.ctx->name, peer);
          return {false, "'" + peer + "' is linked to this bridge already", {}, {}};
        }
        if (auto old = s.links.find(peer); old != s.links.end()) {
          // The peer reconnected before this side noticed the old connection drop.
          stop_links(old->second);
          s.links.erase(old);
        }
        auto mine = spawn_links(self->system(), s.ctx, peer);
        self->monitor(mine.sender);
        self->monitor(mine.receiver);
        start_links(mine, far_sender, far_receiver);
        s.links[peer] = mine;
        auto p = s.ctx->peer(peer);
        p->connects.fetch_add(1, relaxed);
        p->tls.store(s.ctx->tls, relaxed);
        p->set_state("connected");
        spdlog::info("bridge {}: peer '{}' connected{}", s.ctx->name, peer, link_kind(*s.ctx));
        return {true, "", mine.sender, mine.receiver};
      },
  };
}

// ---- connecting side ------------------------------------------------------------------------

struct dialer_state {
  std::shared_ptr<bridge_context> ctx;
  std::weak_ptr<front_door> door;
  caf::actor basp;
  caf::io::scribe_ptr linking;  // the connection being linked: cut if linking fails
  std::string host;
  std::uint16_t port = 0;
  std::string peer;  // known after the first handshake
  std::uint32_t attempt = 0;
  link_pair links;
  caf::actor notify;
  bool linked = false;  // holds the claim on `peer`
  static inline const char* name = "sluice.bridge.dialer";
  ~dialer_state() {
    stop_links(links);
    if (linked && ctx) ctx->release(peer, this);
  }
};

using dialer_actor = caf::stateful_actor<dialer_state>;

void retry_later(dialer_actor* self, const std::string& why) {
  auto& s = self->state;
  // A connection that did not link is not left open (one that did is CAF's to keep).
  if (s.linking) cut_connection(s.linking);
  s.linking = nullptr;
  stop_links(s.links);
  s.links = {};
  if (s.linked) s.ctx->release(s.peer, &s);
  s.linked = false;
  const auto ceiling = backpressure::backoff_ceiling(reconnect_backoff, s.attempt);
  const auto delay = std::max<std::chrono::nanoseconds>(
      min_reconnect,
      backpressure::backoff_delay(reconnect_backoff, s.attempt, backpressure::default_random()));
  if (s.attempt < 32) ++s.attempt;
  spdlog::warn("bridge {}: {}:{}: {}; retrying in {} ms (backoff up to {} ms)", s.ctx->name, s.host,
               s.port, why, std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
               std::chrono::duration_cast<std::chrono::milliseconds>(ceiling).count());
  if (!s.peer.empty()) s.ctx->peer(s.peer)->set_state("backoff", why);
  self->delayed_send(self, delay, dial_atom::value);
}

void refused_by(dialer_actor* self, const std::string& why) {
  auto& s = self->state;
  spdlog::error("bridge {}: authentication with {}:{} failed: {}; no messages were exchanged",
                s.ctx->name, s.host, s.port, why);
  if (!s.peer.empty()) s.ctx->peer(s.peer)->set_state("refused", why);
  if (s.linking) cut_connection(s.linking);
  s.linking = nullptr;
  stop_links(s.links);
  s.links = {};
  if (s.linked) s.ctx->release(s.peer, &s);
  s.linked = false;
  self->send(s.notify, done_atom::value, bridge_exit_refused);
  self->quit();
}

// Over CAF, on a connection the front door authenticated: present the ticket with this side's
// link actors and start both pairs.
void link_up(dialer_actor* self, const caf::actor& far, const std::string& ticket) {
  auto& s = self->state;
  s.links = spawn_links(self->system(), s.ctx, s.peer);
  self->monitor(s.links.sender);
  self->monitor(s.links.receiver);
  self->request(far, link_setup_timeout, bridge_auth_atom::value, ticket, s.links.sender,
                s.links.receiver)
      .then(
          [self](bool ok, const std::string& why, const caf::actor& far_sender,
                 const caf::actor& far_receiver) {
            auto& st = self->state;
            if (!ok) return retry_later(self, "the peer did not link: " + why);
            st.linking = nullptr;
            start_links(st.links, far_sender, far_receiver);
            st.attempt = 0;
            auto p = st.ctx->peer(st.peer);
            p->connects.fetch_add(1, relaxed);
            p->tls.store(st.ctx->tls, relaxed);
            p->set_endpoint(fmt::format("{}:{}", st.host, st.port));
            p->set_state("connected");
            spdlog::info("bridge {}: connected to '{}' at {}:{}{}", st.ctx->name, st.peer, st.host,
                         st.port, link_kind(*st.ctx));
          },
          [self](caf::error& e) { retry_later(self, "linking failed: " + to_string(e)); });
}

caf::behavior dialer(dialer_actor* self, std::shared_ptr<bridge_context> ctx,
                     std::weak_ptr<front_door> door, caf::actor basp, std::string host,
                     std::uint16_t port, caf::actor notify) {
  auto& s = self->state;
  s.ctx = std::move(ctx);
  s.door = std::move(door);
  s.basp = std::move(basp);
  s.host = std::move(host);
  s.port = port;
  s.notify = std::move(notify);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.links.sender.address() != dm.source && st.links.receiver.address() != dm.source) return;
    retry_later(self, "link to '" + st.peer + "' down (" + to_string(dm.reason) + ")");
  });
  self->send(self, dial_atom::value);
  return {
      [self](dial_atom) {
        auto& st = self->state;
        auto d = st.door.lock();
        if (!d) return;
        // Runs on the front door's thread: only messages go back from there.
        d->dial(st.host, st.port,
                [me = caf::actor_cast<caf::actor>(self), sys = &self->system(), name = st.ctx->name,
                 tls = st.ctx->tls](dial_result r) {
                  switch (r.outcome) {
                    case dial_outcome::admitted: {
                      auto& c = r.connection;
                      auto scribe =
                          make_capped_scribe(*sys, c, scribe_for(name, tls, false, me, c.ticket));
                      if (!scribe) {
                        caf::anon_send(me, bridge_failed_atom::value, scribe.err().message);
                        return;
                      }
                      caf::anon_send(me, bridge_admit_atom::value, c.peer, c.ticket,
                                     std::move(scribe.value()));
                      return;
                    }
                    case dial_outcome::refused:
                      caf::anon_send(me, bridge_refused_atom::value, r.peer, r.why);
                      return;
                    case dial_outcome::failed:
                      caf::anon_send(me, bridge_failed_atom::value, r.why);
                      return;
                  }
                });
      },
      [self](bridge_refused_atom, const std::string& peer, const std::string& why) {
        if (!peer.empty()) self->state.peer = peer;
        refused_by(self, why);
      },
      [self](bridge_failed_atom, const std::string& why) { retry_later(self, why); },
      [self](tls_failed_atom, const std::string&, const std::string& why, bool refused) {
        if (refused)
          refused_by(self, "TLS: " + why);
        else
          retry_later(self, "TLS: " + why);
      },
      // Authenticated: CAF takes the connection as if it had dialed it, and answers with the
      // far acceptor once the BASP handshake is through.
      [self](bridge_admit_atom, const std::string& peer, const std::string& ticket,
             caf::io::scribe_ptr& scribe) {
        auto& st = self->state;
        st.peer = peer;
        st.linking = scribe;
        if (!st.ctx->claim(peer, &st)) {
          return retry_later(self, "peer '" + peer +
                                       "' is linked already (through the listener or another "
                                       "--connect); join each pair of bridges once");
        }
        st.linked = true;
        self->request(st.basp, link_setup_timeout, caf::connect_atom_v, std::move(scribe), st.port)
            .then(
                [self, ticket](const caf::node_id&, caf::strong_actor_ptr& ptr,
                               const std::set<std::string>&) {
                  if (!ptr) return retry_later(self, "no bridge published there");
                  link_up(self, caf::actor_cast<caf::actor>(ptr), ticket);
                },
                [self](caf::error& e) {
                  retry_later(self, "CAF handshake failed: " + to_string(e));
                });
      },
  };
}

// ---- status ---------------------------------------------------------------------------------

struct reporter_state {
  std::shared_ptr<bridge_context> ctx;
  std::unique_ptr<runtime::metric_sink> metrics;
  int ticks = 0;
  bool write_failed_logged = false;
  static inline const char* name = "sluice.bridge.reporter";
};

using reporter_actor = caf::stateful_actor<reporter_state>;

runtime::bridge_link_status snapshot(bridge_context& ctx, const std::string& peer_name,
                                     bridge_peer& p) {
  runtime::bridge_link_status st;
  st.peer = peer_name;
  st.name = ctx.name;
  st.outbound = backpressure::outbound_inbox(peer_name);
  st.credits = p.credits.load(relaxed);
  st.in_flight = p.in_flight.load(relaxed);
  st.sent = p.sent.load(relaxed);
  st.resent = p.resent.load(relaxed);
  st.acked = p.acked.load(relaxed);
  st.received = p.received.load(relaxed);
  st.duplicates = p.duplicates.load(relaxed);
  st.undeliverable = p.undeliverable.load(relaxed);
  st.connects = p.connects.load(relaxed);
  st.held = p.held.load(relaxed);
  st.tls = p.tls.load(relaxed);
  st.pid = static_cast<std::uint64_t>(::getpid());
  {
    std::lock_guard<std::mutex> lock(p.m);
    st.state = p.state;
    st.error = p.error;
    st.endpoint = p.endpoint;
  }
  st.updated = runtime::iso8601_ms(std::chrono::system_clock::now());
  return st;
}

void report(reporter_state& s, bool final_report) {
  const bool metrics_now = !final_report && (s.ticks++ % reports_per_metric) == 0;
  for (const auto& [name, p] : s.ctx->peers()) {
    if (!backpressure::is_valid_peer_name(name)) continue;
    auto st = snapshot(*s.ctx, name, *p);
    if (final_report) st.state = "stopped";
    if (auto ok = runtime::write_bridge_status(s.ctx->bus_dir, st); !ok && !s.write_failed_logged) {
      s.write_failed_logged = true;
      spdlog::warn("bridge {}: {}", s.ctx->name, ok.err().message);
    }
    if (!metrics_now || !s.metrics) continue;
    const std::initializer_list<runtime::tag> tags{{"peer", name}, {"bridge", s.ctx->name}};
    s.metrics->emit("bridge.connected", st.state == "connected" ? 1 : 0, "bool", tags);
    s.metrics->emit("bridge.credits", static_cast<double>(st.credits), "count", tags);
    s.metrics->emit("bridge.in_flight", static_cast<double>(st.in_flight), "count", tags);
    s.metrics->emit("bridge.sent", static_cast<double>(st.sent), "count", tags);
    s.metrics->emit("bridge.resent", static_cast<double>(st.resent), "count", tags);
    s.metrics->emit("bridge.received", static_cast<double>(st.received), "count", tags);
    s.metrics->emit("bridge.held", static_cast<double>(st.held), "count", tags);
  }
}

caf::behavior reporter(reporter_actor* self, std::shared_ptr<bridge_context> ctx,
                       std::filesystem::path metrics_file) {
  self->state.ctx = std::move(ctx);
  if (!metrics_file.empty())
    self->state.metrics = std::make_unique<runtime::metric_sink>(metrics_file);
  self->send(self, report_atom::value);
  return {
      [self](report_atom) {
        report(self->state, false);
        self->delayed_send(self, report_interval, report_atom::value);
      },
  };
}

// ---- process --------------------------------------------------------------------------------

std::filesystem::path metrics_path(const std::filesystem::path& dir) {
  runtime::config conf{dir};
  auto f = conf.metrics_file();
  if (!f) return dir / runtime::defaults::metrics_file_name;
  return f->is_relative() ? dir / f.value() : f.value();
}

}  // namespace

namespace {

// The actor system's configuration: BASP over the front door's sockets, TLS when asked for,
// and a scheduler that sleeps on a condition variable when idle instead of polling in 50 us
// naps (CAF's default "moderate" phase), which would add up to 50 us to every hop of a
// message through an idle bridge.
void configure(caf::actor_system_config& cfg, const bridge_options& opts) {
  cfg.set("scheduler.max-threads", 2);
  cfg.set("work-stealing.moderate-poll-attempts", 0);
  // Heartbeats let a silent peer (host gone, cable pulled) time out instead of hanging.
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(500)});
  // BASP deserializes in the I/O thread: a worker pool would add a thread hop per message.
  cfg.set("middleman.workers", 0);
  cfg.load<caf::io::middleman>();
  if (opts.tls.any()) {
    cfg.openssl_certificate = std::filesystem::absolute(opts.tls.cert).string();
    cfg.openssl_key = std::filesystem::absolute(opts.tls.key).string();
    cfg.openssl_cafile = std::filesystem::absolute(opts.tls.ca).string();
    cfg.load<caf::openssl::manager>();
  }
}

struct endpoints {
  std::optional<runtime::endpoint> listen;
  std::vector<runtime::endpoint> connect;
};

runtime::result<endpoints> parse_endpoints(const bridge_options& opts) {
  if (opts.listen.empty() && opts.connect.empty())
    return runtime::error{runtime::errc::invalid_argument,
                          "give --listen HOST:PORT, --connect HOST:PORT (once per peer), or both"};
  endpoints e;
  if (!opts.listen.empty()) {
    auto l = runtime::parse_endpoint(opts.listen, true);
    if (!l) return runtime::error{l.err().code, "--listen " + l.err().message};
    e.listen = *l;
  }
  for (const auto& c : opts.connect) {
    auto d = runtime::parse_endpoint(c, false);
    if (!d) return runtime::error{d.err().code, "--connect " + d.err().message};
    e.connect.push_back(*d);
  }
  return e;
}

}  // namespace

runtime::result<int> run_bridge(const bridge_options& opts) {
  auto where = parse_endpoints(opts);
  if (!where) return where.err();
  auto loc = runtime::resolve_bus(opts.bus);
  if (!loc) return loc.err();
  auto ctx = std::make_shared<bridge_context>();
  ctx->bus_dir = loc->dir;
  ctx->name = opts.name.empty() ? loc->bus : opts.name;
  if (ctx->name.empty())
    return runtime::error{runtime::errc::invalid_argument,
                          "the bus was given by directory: name this bridge with --name"};
  if (!backpressure::is_valid_peer_name(ctx->name))
    return runtime::error{
        runtime::errc::invalid_name,
        "bridge name '" + ctx->name + "' must match ^[A-Za-z0-9_-]{1,57}$ (--name)"};
  if (!opts.secret_file.empty()) {
    auto secret = read_secret_file(opts.secret_file);
    if (!secret) return secret.err();
    ctx->secret = std::move(secret.value());
  }
  if (auto ok = check_tls_files(opts.tls); !ok) return ok.err();
  ctx->tls = opts.tls.any();
  runtime::config conf{ctx->bus_dir};
  // An invalid MAX_INBOX_SIZE (or slot size, reserve) is an error, not a silent default;
  // checked before the bus directory is created, so it leaves nothing behind.
  auto inbox_opts = conf.new_inbox_options();
  if (!inbox_opts) return inbox_opts.err();
  ctx->inbox_opts = *inbox_opts;
  if (auto ok = runtime::ensure_bus_dir(ctx->bus_dir); !ok) return ok.err();
  ctx->batch = std::max<std::size_t>(1, opts.batch);
  if (where->listen) ctx->endpoint = fmt::format("{}:{}", where->listen->host, where->listen->port);

  // Every batch is a buffer of up to a few hundred KiB made on one side of CAF and freed on
  // the other. glibc hands such sizes back to the kernel (mmap/munmap, trimming the heap top),
  // and the next batch pays a page fault per 4 KiB: a third of a busy bridge's time went
  // there. Keeping them in the heap makes a batch a reused buffer.
  ::mallopt(M_MMAP_THRESHOLD, 16 * 1024 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  // Blocked before CAF starts its threads (they inherit the mask); sigwait below takes them.
  const runtime::blocked_stop_signals blocked;
  ::signal(SIGPIPE, SIG_IGN);
  int code = bridge_exit_ok;
  {
    caf::actor_system_config cfg;
    configure(cfg, opts);
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    auto rep = sys.spawn(reporter, ctx, metrics_path(ctx->bus_dir));
    auto basp = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
    // Declared after sys and reset at the stop below, so it is gone (its thread joined, no
    // callback running) before the actor system its callbacks use; the dialers hold it weakly.
    const front_door_limits limits{opts.handshake_timeout, opts.max_unauthenticated};
    auto door =
        std::make_shared<front_door>(handshake_identity{ctx->name, ctx->secret, ctx->tls}, limits);
    std::vector<caf::actor> sides;
    if (where->listen) {
      const auto& l = *where->listen;
      auto port = door->listen(l.host, l.port);
      if (!port) {
        caf::anon_send_exit(rep, caf::exit_reason::user_shutdown);
        return runtime::error{runtime::errc::io_error,
                              "--listen " + opts.listen + ": cannot listen: " + port.err().message};
      }
      auto side = sys.spawn(acceptor, ctx, basp, *port, limits);
      sides.push_back(side);
      door->accept(
          // On the front door's thread: CAF wraps the socket like one it accepted itself;
          // the acceptor hands it to the BASP broker.
          [side, sys_ptr = &sys, name = ctx->name, tls = ctx->tls](admitted_connection c) {
            auto scribe =
                make_capped_scribe(*sys_ptr, c, scribe_for(name, tls, true, side, c.ticket));
            if (!scribe) {
              spdlog::error("bridge {}: peer '{}' ({}): {}", name, c.peer, c.remote,
                            scribe.err().message);
              return;
            }
            caf::anon_send(side, bridge_admit_atom::value, c.peer, c.ticket,
                           std::move(scribe.value()));
          },
          [ctx](const std::string& peer, const std::string& why) {
            mark_refused(*ctx, peer, why);
          });
      ctx->endpoint = fmt::format("{}:{}", l.host, *port);
      spdlog::info("bridge {}: listening on {} (bus {}){}", ctx->name, ctx->endpoint,
                   ctx->bus_dir.string(), ctx->tls ? ", TLS" : "");
      std::printf("{\"event\":\"listening\",\"name\":\"%s\",\"host\":\"%s\",\"port\":%u}\n",
                  ctx->name.c_str(), l.host.c_str(), static_cast<unsigned>(*port));
      std::fflush(stdout);
    }
    for (const auto& c : where->connect) {
      sides.push_back(sys.spawn(dialer, ctx, std::weak_ptr<front_door>(door), basp, c.host, c.port,
                                caf::actor_cast<caf::actor>(self)));
      spdlog::info("bridge {}: connecting to {}:{} (bus {}){}", ctx->name, c.host, c.port,
                   ctx->bus_dir.string(), ctx->tls ? ", TLS" : "");
    }
    std::thread waiter([&blocked, &self] {
      int sig = 0;
      ::sigwait(&blocked.set, &sig);
      caf::anon_send(caf::actor_cast<caf::actor>(self), done_atom::value, -sig);
    });
    // A dialer that was refused says so and stops; without a listener, once every dialer has,
    // there is nothing left to do.
    std::size_t refused = 0;
    bool stop = false;
    while (!stop) {
      self->receive([&](done_atom, int result) {
        if (result < 0) {
          code = result;
          stop = true;
        } else if (++refused == where->connect.size() && !where->listen) {
          code = result;
          stop = true;
        }
      });
    }
    if (code >= 0) ::pthread_kill(waiter.native_handle(), SIGTERM);  // wakes its sigwait
    waiter.join();
    if (code < 0) {
      spdlog::info("bridge {}: {}; stopping", ctx->name, code == -SIGINT ? "SIGINT" : "SIGTERM");
      code = bridge_exit_ok;
    }
    // Every actor first: the acceptor and the dialers stop their links as they go, and the
    // links count among the system's running actors, so this waits for them too. The one
    // left is `self`, this thread's actor (CAF 0.17 counts a scoped_actor even when asked to
    // hide it). Only then the front door's thread, which sends to actors, while the actor
    // system it sends into still runs; the middleman stops in the system's destructor, with
    // no link (nor a link's bell) left on its I/O thread.
    for (auto& side : sides) caf::anon_send_exit(side, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(rep, caf::exit_reason::user_shutdown);
    sys.registry().await_running_count_equal(1);
    door.reset();
  }
  // Every actor is gone: the last word on each link.
  reporter_state last;
  last.ctx = ctx;
  report(last, true);
  return code;
}

}  // namespace sluice::actors
