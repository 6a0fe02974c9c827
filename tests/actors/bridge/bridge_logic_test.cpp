// The CAF-free parts of the bridge: addresses and envelopes, the credit window and ledger, the
// resend filter, the status file, and a model of a whole link (window + ledger + a bounded
// inbox) through drops and resends. Built and run under every sanitizer, TSan included.
#include <catch2/catch.hpp>
#include <deque>
#include <fstream>
#include <map>
#include <random>

#include "actors/bridge/credit.hpp"
#include "backpressure/address.hpp"
#include "actors/bridge/status.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::backpressure;
using namespace sluice::actors;
using sluice::actors::bridge_link_status;

TEST_CASE(
    "an address agent@peer routes to the outbound inbox bridge-peer with the agent in an "
    "envelope") {
  auto r = parse_address("far@east");
  REQUIRE(r);
  REQUIRE(r.value().has_value());
  CHECK(r.value()->agent == "far");
  CHECK(r.value()->peer == "east");
  CHECK(outbound_inbox("east") == "bridge-east");
  const auto wrapped = wrap_envelope("far", "line one\nline two");
  const auto env = unwrap_envelope(wrapped);
  REQUIRE(env);
  CHECK(env->agent == "far");
  CHECK(env->payload == "line one\nline two");
}

TEST_CASE("a plain agent name is a local address") {
  auto r = parse_address("worker-1");
  REQUIRE(r);
  CHECK_FALSE(r.value().has_value());
}

TEST_CASE("addresses with a bad agent or bridge name are refused with the rule") {
  for (const char* bad : {"@east", "far@", "f ar@east", "far@ea st", "far@east@west"}) {
    auto r = parse_address(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("must match") != std::string::npos);
  }
  CHECK_FALSE(parse_address("far@" + std::string(58, 'p')));
  CHECK(parse_address("far@" + std::string(57, 'p')));
}

TEST_CASE("a payload without a valid agent line is not an envelope") {
  CHECK_FALSE(unwrap_envelope("no newline"));
  CHECK_FALSE(unwrap_envelope("bad name\npayload"));
  CHECK_FALSE(unwrap_envelope("\npayload"));
  auto empty = unwrap_envelope("far\n");
  REQUIRE(empty);
  CHECK(empty->payload.empty());
}

namespace {
std::vector<credit_window::entry> batch_of(
    std::initializer_list<std::pair<std::uint64_t, const char*>> items) {
  std::vector<credit_window::entry> out;
  for (const auto& [id, dest] : items) out.push_back({id, dest, false});
  return out;
}
}  // namespace

TEST_CASE("a credit window sends nothing to a destination before the receiver granted credit") {
  credit_window w;
  w.load(batch_of({{1, "far"}, {2, "far"}}));
  CHECK_FALSE(w.next_sendable());
  CHECK(w.take_wants() == std::vector<std::string>{"far"});
  CHECK(w.take_wants().empty());  // asked once per connection
  w.grant("far", 1);
  REQUIRE(w.next_sendable() == std::size_t{0});
  w.mark_sent(0);
  CHECK_FALSE(w.next_sendable());  // the second one waits for more credit
  CHECK(w.in_flight() == 1);
  CHECK(w.credits() == 0);
}

TEST_CASE("a credit window never has more in flight to a destination than its cumulative grant") {
  credit_window w;
  std::vector<credit_window::entry> b;
  for (std::uint64_t i = 0; i < 100; ++i) b.push_back({i, "far", false});
  w.load(b);
  w.grant("far", 10);
  std::size_t sent = 0;
  while (auto i = w.next_sendable()) {
    w.mark_sent(*i);
    ++sent;
  }
  CHECK(sent == 10);
  w.grant("far", 5);  // an older, smaller grant arriving late changes nothing
  CHECK_FALSE(w.next_sendable());
  w.grant("far", 12);
  while (auto i = w.next_sendable()) {
    w.mark_sent(*i);
    ++sent;
  }
  CHECK(sent == 12);
}

TEST_CASE("a credit window keeps order: a message waiting for credit holds back later ones") {
  credit_window w;
  w.load(batch_of({{1, "far"}, {2, "near"}}));
  w.grant("near", 100);
  CHECK_FALSE(w.next_sendable());
  w.grant("far", 1);
  REQUIRE(w.next_sendable() == std::size_t{0});
  w.mark_sent(0);
  REQUIRE(w.next_sendable() == std::size_t{1});
}

TEST_CASE(
    "a batch is complete only when every sent message was acknowledged, skipped ones included") {
  credit_window w;
  std::vector<credit_window::entry> b = batch_of({{1, "far"}, {2, ""}, {3, "far"}});
  b[1].skip = true;
  w.load(b);
  w.grant("far", 10);
  while (auto i = w.next_sendable()) w.mark_sent(*i);
  CHECK(w.in_flight() == 2);
  CHECK_FALSE(w.complete());
  CHECK(w.ack(3));
  CHECK_FALSE(w.ack(3));   // a repeat
  CHECK_FALSE(w.ack(99));  // not in flight
  CHECK_FALSE(w.complete());
  CHECK(w.ack(1));
  CHECK(w.complete());
  w.clear();
  CHECK(w.empty());
}

TEST_CASE(
    "a credit ledger grants what arrived plus free slots minus parked, and never less than "
    "before") {
  credit_ledger l;
  CHECK(l.limit("far", 5) == 5);
  CHECK_FALSE(l.fresh_grant("far", 5));
  for (int i = 0; i < 5; ++i) l.on_received("far");
  // The fifth did not fit (another local sender took the slot): the receiver parked it.
  l.on_parked("far");
  CHECK(l.limit("far", 0) == 5);         // inbox full: no new credit
  CHECK_FALSE(l.fresh_grant("far", 1));  // the free slot belongs to the parked message
  auto g = l.fresh_grant("far", 3);
  REQUIRE(g);
  CHECK(*g == 5 + 2);
  l.on_unparked("far");
  CHECK(l.limit("far", 0) == 7);  // never shrinks
  CHECK(l.destinations() == std::vector<std::string>{"far"});
}

TEST_CASE("the resend filter forgets the oldest ids first") {
  recent_ids r(3);
  for (std::uint64_t id : {1, 2, 3, 2}) r.insert(id);
  CHECK(r.size() == 3);
  r.insert(4);
  CHECK_FALSE(r.contains(1));
  CHECK(r.contains(2));
  CHECK(r.contains(4));
}

// A whole link without threads: the outbound inbox is a deque, the far inbox holds `cap`
// messages and is drained at random, and the link drops at random. Every message must arrive,
// per sender in order, and the far inbox must never be asked to hold more than fits.
TEST_CASE(
    "a modelled link delivers every message in order through drops, resends and a full inbox") {
  std::mt19937 rng(42);
  struct msg {
    std::uint64_t id;
    std::string dest;
  };
  std::deque<msg> outbound;
  for (std::uint64_t i = 0; i < 3000; ++i) outbound.push_back({i, i % 3 == 0 ? "a" : "b"});
  const std::uint64_t cap = 7;
  std::map<std::string, std::uint64_t> far_size;
  std::map<std::string, std::vector<std::uint64_t>> delivered;
  recent_ids seen(1024);
  std::uint64_t drops = 0;
  std::uint64_t full_pushes = 0;
  while (!outbound.empty()) {
    credit_window w;  // a new connection: fresh window and ledger
    credit_ledger l;
    std::deque<std::pair<std::uint64_t, std::string>> wire;  // data in flight, in order
    std::deque<std::pair<std::uint64_t, std::string>> acks;
    bool up = true;
    while (up && !outbound.empty()) {
      if (w.empty()) {
        std::vector<credit_window::entry> b;
        for (std::size_t i = 0; i < std::min<std::size_t>(16, outbound.size()); ++i)
          b.push_back({outbound[i].id, outbound[i].dest, false});
        w.load(b);
      }
      for (auto& d : w.take_wants()) w.grant(d, l.limit(d, cap - far_size[d]));
      while (auto i = w.next_sendable()) {
        wire.emplace_back(w.at(*i).id, w.at(*i).dest);
        w.mark_sent(*i);
      }
      // The receiver handles one message, or the consumer drains, or the link drops.
      const auto roll = rng() % 10;
      if (roll == 0) {
        up = false;
        ++drops;
      } else if (roll < 4) {
        for (auto& [d, n] : far_size) n -= n > 0 ? rng() % (n + 1) : 0;
        for (const auto& d : l.destinations())
          if (auto g = l.fresh_grant(d, cap - far_size[d])) w.grant(d, *g);
      } else if (!wire.empty()) {
        auto [id, d] = wire.front();
        wire.pop_front();
        l.on_received(d);
        if (!seen.contains(id)) {
          if (far_size[d] >= cap) ++full_pushes;
          ++far_size[d];
          delivered[d].push_back(id);
          seen.insert(id);
        }
        acks.emplace_back(id, d);
      }
      if (!acks.empty() && rng() % 2 == 0) {
        auto [id, d] = acks.front();
        acks.pop_front();
        w.ack(id);
        w.grant(d, l.limit(d, cap - far_size[d]));
        if (w.complete()) {
          for (std::size_t i = 0; i < 16 && !outbound.empty(); ++i) outbound.pop_front();
          w.clear();
        }
      }
    }
  }
  CHECK(drops > 10);
  CHECK(full_pushes == 0);
  for (const auto& [d, ids] : delivered) {
    INFO(d);
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(ids.size() == (d == "a" ? 1000u : 2000u));
  }
}

TEST_CASE("a bridge status file reads back as written and garbage beside it is skipped") {
  sluice::test::temp_dir dir;
  bridge_link_status s;
  s.peer = "east";
  s.name = "west";
  s.state = "connected";
  s.credits = 7;
  s.in_flight = 3;
  s.sent = 100;
  s.resent = 4;
  s.connects = 2;
  s.outbound = "bridge-east";
  REQUIRE(sluice::actors::write_bridge_status(dir.path(), s));
  s.peer = "north";
  s.state = "backoff";
  s.outbound = "bridge-north";
  REQUIRE(sluice::actors::write_bridge_status(dir.path(), s));
  std::ofstream(dir.path() / "bridge-broken.json") << "{not json";
  std::ofstream(dir.path() / "bridge-east.inbox") << "x";
  const auto all = sluice::actors::read_bridge_statuses(dir.path());
  REQUIRE(all.size() == 2);
  CHECK(all[0].peer == "east");
  CHECK(all[0].state == "connected");
  CHECK(all[0].credits == 7);
  CHECK(all[0].in_flight == 3);
  CHECK(all[0].resent == 4);
  CHECK(all[1].peer == "north");
  CHECK(all[1].state == "backoff");
  CHECK(sluice::actors::read_bridge_statuses(dir.path() / "missing").empty());
  // get-stats finds a link by its outbound inbox.
  auto east = sluice::actors::bridge_status_of_inbox(dir.path(), "bridge-east");
  REQUIRE(east);
  CHECK(east->peer == "east");
  CHECK_FALSE(sluice::actors::bridge_status_of_inbox(dir.path(), "far"));
}
