// The CAF-free parts of the bridge: addresses and envelopes, the send window and credit
// ledger, the resend filter, the wire format, holding inboxes, the status file, and a model of
// a whole link (window + ledger + bounded inboxes + a holding queue) through drops and resends.
// Built and run under every sanitizer, TSan included.
#include <catch2/catch.hpp>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "actors/bridge/credit.hpp"
#include "actors/bridge/held_inbox.hpp"
#include "actors/bridge/wire.hpp"
#include "backpressure/address.hpp"
#include "inbox/layout.hpp"
#include "runtime/bridge_status.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::backpressure;
using namespace sluice::actors;
using sluice::runtime::bridge_link_status;

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

std::vector<send_window::entry> batch_of(
    std::initializer_list<std::pair<std::uint64_t, const char*>> items) {
  std::vector<send_window::entry> out;
  for (const auto& [id, dest] : items) out.push_back({id, dest, false});
  return out;
}

// What take_sendable put on the wire: (source, index, seq).
struct wire_log {
  std::vector<std::tuple<std::size_t, std::size_t, std::uint64_t>> sent;
  void take(send_window& w) {
    w.take_sendable(
        [&](std::size_t src, std::size_t i, std::uint64_t seq) { sent.emplace_back(src, i, seq); });
  }
  std::vector<std::size_t> indexes() const {
    std::vector<std::size_t> out;
    for (const auto& [src, i, seq] : sent) out.push_back(i);
    return out;
  }
};

}  // namespace

TEST_CASE("a send window sends nothing to a destination before the receiver granted credit") {
  send_window w;
  w.load(0, batch_of({{1, "far"}, {2, "far"}, {3, "near"}}), true);
  wire_log log;
  log.take(w);
  CHECK(log.sent.empty());
  // Every destination of the batch is asked for at once, each once per connection.
  CHECK(w.take_wants() == std::vector<std::string>{"far", "near"});
  CHECK(w.take_wants().empty());
  w.grant("far", 1);
  log.take(w);
  REQUIRE(log.sent.size() == 1);
  CHECK(std::get<2>(log.sent[0]) == 1);  // sequence numbers start at 1
  CHECK(w.in_flight() == 1);
  CHECK(w.credits() == 0);
}

TEST_CASE("a send window never has more in flight to a destination than its cumulative grant") {
  send_window w;
  std::vector<send_window::entry> b;
  for (std::uint64_t i = 0; i < 100; ++i) b.push_back({i, "far", false});
  w.load(0, b, true);
  w.grant("far", 10);
  wire_log log;
  log.take(w);
  CHECK(log.sent.size() == 10);
  w.grant("far", 5);  // an older, smaller grant arriving late changes nothing
  log.take(w);
  CHECK(log.sent.size() == 10);
  w.grant("far", 12);
  log.take(w);
  CHECK(log.sent.size() == 12);
  CHECK(w.credits() == 0);
}

TEST_CASE(
    "a destination without credit holds back only its own messages, and each destination keeps "
    "its order") {
  send_window w;
  w.load(0, batch_of({{1, "full"}, {2, "open"}, {3, "full"}, {4, "open"}}), true);
  w.grant("open", 100);
  w.grant("full", 0);
  wire_log log;
  log.take(w);
  CHECK(log.indexes() == std::vector<std::size_t>{1, 3});
  w.grant("full", 1);
  log.take(w);
  CHECK(log.indexes() == std::vector<std::size_t>{1, 3, 0});  // the first "full" one first
}

TEST_CASE(
    "a cumulative acknowledgement settles everything up to it, except what the receiver "
    "parked, which a later one settles") {
  send_window w;
  w.load(0, batch_of({{1, "a"}, {2, "b"}, {3, "a"}, {4, "b"}}), true);
  w.grant("a", 10);
  w.grant("b", 10);
  wire_log log;
  log.take(w);
  REQUIRE(log.sent.size() == 4);
  CHECK(w.in_flight() == 4);
  CHECK(w.on_ack(3, {2}) == 2);  // 1 and 3 delivered, 2 parked, 4 not yet acknowledged
  CHECK(w.in_flight() == 2);
  CHECK_FALSE(w.complete(0));
  CHECK(w.on_ack(4, {2}) == 1);
  CHECK(w.on_ack(4, {2}) == 0);  // a repeat settles nothing
  CHECK_FALSE(w.complete(0));
  CHECK(w.on_ack(4, {}) == 1);  // the parked one went in
  CHECK(w.complete(0));
  CHECK(w.in_flight() == 0);
  w.clear(0);
  CHECK_FALSE(w.loaded(0));
}

TEST_CASE("a batch is complete only when every message was acknowledged, skipped ones included") {
  send_window w;
  auto b = batch_of({{1, "far"}, {2, ""}, {3, "far"}});
  b[1].skip = true;
  w.load(0, b, true);
  w.grant("far", 10);
  wire_log log;
  log.take(w);
  CHECK(log.indexes() == std::vector<std::size_t>{0, 2});
  CHECK_FALSE(w.complete(0));
  w.on_ack(2, {});
  CHECK(w.complete(0));
}

TEST_CASE(
    "a destination blocks a batch once its grant is used up (not while its first grant is "
    "awaited), and its messages can then be moved aside so the batch completes") {
  send_window w;
  w.load(0, batch_of({{1, "full"}, {2, "open"}, {3, "full"}, {4, "full"}, {5, "open"}}), true);
  CHECK(w.blocked(0).empty());  // no answer to the want yet: waiting, not blocked
  w.grant("full", 1);
  w.grant("open", 100);
  wire_log log;
  log.take(w);
  CHECK(log.indexes() == std::vector<std::size_t>{0, 1, 4});
  CHECK(w.blocked(0) == std::vector<std::string>{"full"});
  w.on_ack(3, {});
  w.set_spilling("full", 0);
  CHECK(w.spilling("full"));
  CHECK(w.blocked(0).empty());
  CHECK(w.diverted(0) == std::vector<std::size_t>{2, 3});
  CHECK_FALSE(w.complete(0));
  w.mark_moved(0, 2);
  w.mark_moved(0, 3);
  CHECK(w.complete(0));
  w.clear(0);
  // While it spills, its messages are diverted on load, in order, and never sent directly.
  w.load(0, batch_of({{6, "open"}, {7, "full"}}), true);
  CHECK(w.diverted(0) == std::vector<std::size_t>{1});
  // A holding inbox's batch (not diverted) goes out as credit allows.
  w.load(1, batch_of({{3, "full"}, {4, "full"}}), false);
  w.grant("full", 3);
  log.sent.clear();
  log.take(w);
  CHECK(log.sent.size() == 3);  // "open" from source 0, both "full" ones from source 1
  CHECK(std::get<0>(log.sent[1]) == 1);
  w.clear_spilling("full");
  CHECK_FALSE(w.spilling("full"));
  // A message an earlier connection moved already is settled on load.
  w.clear(0);
  auto b = batch_of({{8, "open"}, {9, "full"}});
  b[1].moved = true;
  w.load(0, b, true);
  CHECK(w.state_of(0, 1) == send_window::state::moved);
}

TEST_CASE(
    "a diverted message is moved only after the earlier messages for its destination that were "
    "sent before it began to spill") {
  send_window w;
  w.load(0, batch_of({{1, "full"}, {2, "full"}, {3, "open"}, {4, "full"}}), true);
  w.grant("full", 1);
  w.grant("open", 10);
  wire_log log;
  log.take(w);
  CHECK(log.indexes() == std::vector<std::size_t>{0, 2});
  w.set_spilling("full", 0);
  CHECK(w.diverted(0) == std::vector<std::size_t>{1, 3});
  CHECK(w.movable(0).empty());  // 1 is still on its way; if it is lost, it goes first
  w.on_ack(2, {});
  CHECK(w.movable(0) == std::vector<std::size_t>{1, 3});
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

TEST_CASE(
    "the resend filter remembers exactly the latest ids through wrap-arounds and collisions") {
  // Against a plain model: ids in runs as a sender's ids come, ids that share their low bits
  // (long probe runs: the overflow), and ids from a small range (they repeat and collide).
  std::mt19937_64 rng(7);
  for (const std::size_t capacity : {1, 2, 5, 64, 1000}) {
    recent_ids r(capacity);
    std::deque<std::uint64_t> order;
    std::set<std::uint64_t> model;
    std::uint64_t run = 0;
    for (int i = 0; i < 20000; ++i) {
      const std::uint64_t id = i % 3 == 0   ? run++
                               : i % 3 == 1 ? (rng() % (capacity + 7)) << 20
                                            : rng() % (4 * capacity + 3);
      r.insert(id);
      if (model.insert(id).second) {
        order.push_back(id);
        if (order.size() > capacity) {
          model.erase(order.front());
          order.pop_front();
        }
      }
      REQUIRE(r.size() == model.size());
      const std::uint64_t probe = i % 2 == 0 ? rng() % (4 * capacity + 3) : (rng() % 64) << 20;
      REQUIRE(r.contains(probe) == (model.count(probe) != 0));
      REQUIRE(r.contains(id));
    }
    for (const auto id : model) CHECK(r.contains(id));
  }
}

// A whole link without threads: the outbound inbox is a deque read in batches, each far
// inbox holds `cap` messages, "a" and "b" are drained at random, "stuck" never, and the link
// drops at random. The outbound inbox is read as the real sender reads it: on into a window
// while earlier messages are on the wire, committed as far as its front is settled. A window
// front that has waited long on used-up credit moves the blocked
// destinations' messages into their modelled holding queues, which are sent from later (as
// the real sender does: a destination spills until its holding queue is drained). There are
// fewer "stuck" messages than its inbox and holding queue take together, the limit a holding
// inbox sets. Every message for "a" and "b" must arrive, per destination in order, none twice,
// and no far inbox may ever be asked to hold more than fits.
TEST_CASE(
    "a modelled link delivers every message in order through drops and resends, and a never "
    "drained inbox holds up only its own messages") {
  std::mt19937 rng(42);
  struct msg {
    std::uint64_t id;
    std::string dest;
  };
  std::deque<msg> outbound;
  const std::uint64_t cap = 7;
  const std::uint64_t stuck_messages = cap + 3;
  const std::size_t held_cap = 4 * cap;
  std::map<std::string, std::size_t> total;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    const char* d = i % 3 == 0 ? "a" : "b";
    if (i % 7 == 3 && total["stuck"] < stuck_messages) d = "stuck";
    outbound.push_back({i, d});
    ++total[d];
  }
  const std::map<std::string, std::size_t> held_source{{"a", 1}, {"b", 2}, {"stuck", 3}};
  std::map<std::string, std::deque<msg>> held;  // the holding inboxes
  std::set<std::uint64_t> moved;   // moved into them from the uncommitted outbound batch
  std::set<std::string> spilling;  // persists across connections, as the holding inboxes do
  const std::uint64_t far_cap = cap;
  std::map<std::string, std::uint64_t> far_size;
  std::map<std::string, std::vector<std::uint64_t>> delivered;
  recent_ids seen(4096);
  std::uint64_t drops = 0;
  std::uint64_t full_pushes = 0;
  std::uint64_t spills = 0;
  const std::size_t batch = 16;
  const auto done = [&] {
    return delivered["a"].size() == total["a"] && delivered["b"].size() == total["b"];
  };
  for (int round = 0; !done() && round < 20000; ++round) {
    send_window w;  // a new connection: fresh window and ledger
    credit_ledger l;
    for (const auto& d : spilling) w.set_spilling(d, 0);
    std::map<std::size_t, std::vector<msg>> loaded;  // the holding sources' batches
    std::size_t window = 0;  // outbound messages read and not yet committed: its first ones
    // The outbound message at window index i (indexes run on as the front is committed).
    const auto outbound_at = [&](std::size_t i) -> const msg& {
      return outbound[i - (w.end(0) - window)];
    };
    struct frame {
      std::uint64_t seq;
      std::uint64_t id;
      std::string dest;
    };
    std::deque<frame> wire;
    std::deque<std::uint64_t> acks;  // cumulative "through"
    std::uint64_t received_seq = 0;
    int age = 0;  // steps since the outbound batch was loaded
    bool up = true;
    while (up && !done()) {
      if (window < batch && window < outbound.size()) {
        // Reads of one to four messages, as they happen to be published.
        const std::size_t k =
            std::min({batch - window, outbound.size() - window, std::size_t{1} + rng() % 4});
        std::vector<send_window::entry> b;
        for (std::size_t j = window; j < window + k; ++j) {
          const auto& m = outbound[j];
          b.push_back({m.id, m.dest, false, moved.count(m.id) != 0});
        }
        if (window == 0) age = 0;
        window += k;
        w.append(0, b, true);
      }
      for (const auto i : w.movable(0)) {
        const auto& m = outbound_at(i);
        if (held[m.dest].size() >= held_cap) continue;
        held[m.dest].push_back(m);
        moved.insert(m.id);
        w.mark_moved(0, i);
      }
      std::set<std::string> still_diverted;
      for (const auto i : w.diverted(0)) still_diverted.insert(outbound_at(i).dest);
      for (const auto& [d, src] : held_source) {
        auto& q = held[d];
        if (w.loaded(src)) continue;
        if (q.empty()) {
          if (spilling.count(d) != 0 && still_diverted.count(d) == 0) {
            spilling.erase(d);
            w.clear_spilling(d);
          }
          continue;
        }
        loaded[src].assign(q.begin(), q.begin() + std::min(batch, q.size()));
        std::vector<send_window::entry> b;
        for (const auto& m : loaded[src]) b.push_back({m.id, m.dest, false});
        w.load(src, b, false);
      }
      for (auto& d : w.take_wants()) w.grant(d, l.limit(d, far_cap - far_size[d]));
      w.take_sendable([&](std::size_t src, std::size_t i, std::uint64_t seq) {
        const msg& m = src == 0 ? outbound_at(i) : loaded[src][i];
        wire.push_back({seq, m.id, m.dest});
      });
      const std::size_t through = w.settled_through(0);
      const std::size_t settled = through - (w.end(0) - window);
      if (settled > 0) {
        for (std::size_t k = 0; k < settled; ++k) {
          moved.erase(outbound.front().id);
          outbound.pop_front();
        }
        window -= settled;
        w.drop_through(0, through);
        age = 0;
      }
      for (const auto& [d, src] : held_source) {
        if (!w.complete(src)) continue;
        for (std::size_t k = 0; k < loaded[src].size(); ++k) held[d].pop_front();
        w.clear(src);
      }
      if (++age > 20 && w.loaded(0) && outbound.size() > window) {
        for (const auto& d : w.blocked(0)) {
          w.set_spilling(d, 0);
          spilling.insert(d);
          ++spills;
        }
        age = 0;
      }
      // The receiver handles one frame, or "a" and "b" drain, or the link drops.
      const auto roll = rng() % 40;
      if (roll == 0) {
        up = false;
        ++drops;
      } else if (roll < 13) {
        for (const char* d : {"a", "b"})
          far_size[d] -= far_size[d] > 0 ? rng() % (far_size[d] + 1) : 0;
        for (const auto& d : l.destinations())
          if (auto g = l.fresh_grant(d, far_cap - far_size[d])) w.grant(d, *g);
      } else if (!wire.empty()) {
        const auto f = wire.front();
        wire.pop_front();
        REQUIRE(f.seq == ++received_seq);
        l.on_received(f.dest);
        if (!seen.contains(f.id)) {
          if (far_size[f.dest] >= far_cap) ++full_pushes;
          ++far_size[f.dest];
          delivered[f.dest].push_back(f.id);
          seen.insert(f.id);
        }
        acks.push_back(f.seq);
      }
      if (!acks.empty() && rng() % 2 == 0) {
        const auto through = acks.back();
        acks.clear();
        w.on_ack(through, {});
        for (const auto& d : l.destinations()) w.grant(d, l.limit(d, far_cap - far_size[d]));
      }
    }
  }
  CHECK(drops > 10);
  CHECK(full_pushes == 0);
  CHECK(spills > 0);
  CHECK(spilling.count("stuck") == 1);
  CHECK(delivered["stuck"].size() == far_cap);  // what fitted before it filled
  for (const char* d : {"a", "b"}) {
    INFO(d);
    const auto& ids = delivered[d];
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(ids.size() == total[d]);
  }
}

TEST_CASE(
    "a data batch reads back as written, and a batch of one largest message fits a BASP frame") {
  wire::batch_writer wr;
  wr.start(7);
  const wire::record a{11, 2, "me", "greet", "far", "hello"};
  const wire::record b{12, 3, "you", "t", "near", std::string_view("\0bin\n", 5)};
  REQUIRE(wr.fits(a));
  wr.add(a);
  wr.add(b);
  const auto blob = wr.take();
  CHECK(wr.empty());
  wire::batch in;
  REQUIRE_FALSE(wire::read_batch(blob, in));
  CHECK(in.first_seq == 7);
  REQUIRE(in.records.size() == 2);
  CHECK(in.records[0].id == 11);
  CHECK(in.records[0].prio == 2);
  CHECK(in.records[0].from == "me");
  CHECK(in.records[0].type == "greet");
  CHECK(in.records[0].dest == "far");
  CHECK(in.records[0].payload == "hello");
  CHECK(in.records[1].payload == std::string_view("\0bin\n", 5));

  const std::string big(sluice::inbox::layout::max_slot_size, 'x');
  const std::string name(sluice::inbox::max_agent_name, 'n');
  const std::string type(sluice::inbox::max_type_name, 't');  // records only view their text
  const wire::record huge{1, 0, name, type, name, big};
  wr.start(1);
  CHECK(wr.fits(huge));  // alone, always
  wr.add(huge);
  CHECK_FALSE(wr.fits(a));  // nothing joins it
  const auto one = wr.take();
  CHECK(one.size() + wire::caf_framing_reserve <= wire::max_basp_payload);
  // A full batch of small ones stays within the target.
  wr.start(1);
  std::size_t n = 0;
  while (wr.fits(a)) {
    wr.add(a);
    ++n;
  }
  CHECK(n > 1000);
  CHECK(wr.take().size() <= wire::batch_target_bytes);
}

TEST_CASE("a malformed data batch is refused with the reason, never read past its end") {
  wire::batch_writer wr;
  wr.start(1);
  wr.add({1, 0, "me", "t", "far", "payload"});
  const auto good = wr.take();
  wire::batch in;
  REQUIRE_FALSE(wire::read_batch(good, in));
  for (std::size_t cut = 0; cut < good.size(); ++cut)
    CHECK(wire::read_batch(good.substr(0, cut), in));
  CHECK(wire::read_batch(good + "x", in));  // trailing bytes
  auto lying = good;
  lying[8] = '\x7f';  // announces 127 records
  CHECK(wire::read_batch(lying, in));
  auto zero = good;
  zero[0] = '\0';  // numbered from 0
  CHECK(wire::read_batch(zero, in));
  auto long_name = good;
  long_name[12 + 10] = '\xff';  // from_len 255
  CHECK(wire::read_batch(long_name, in));
}

TEST_CASE("acknowledgements and credit requests read back as written, and garbage is refused") {
  wire::ack a;
  a.through = 1234;
  a.parked = {1200, 1201};
  a.grants = {{"far", 77}, {"near", 5}};
  const auto blob = wire::encode_ack(a);
  const auto back = wire::decode_ack(blob);
  REQUIRE(back);
  CHECK(back->through == 1234);
  CHECK(back->parked == a.parked);
  CHECK(back->grants == a.grants);
  for (std::size_t cut = 0; cut < blob.size(); ++cut)
    CHECK_FALSE(wire::decode_ack(blob.substr(0, cut)));
  CHECK_FALSE(wire::decode_ack(blob + "x"));
  const std::vector<std::string> names{"far", "near"};
  CHECK(wire::decode_names(wire::encode_names(names)) == names);
  CHECK_FALSE(wire::decode_names("\xff\xff\xff\xff"));
}

TEST_CASE("a held message carries its outbound id in front of the original payload") {
  const auto p = held_payload(0x00ab0000000000cdULL, "far\nhello");
  CHECK(p.size() == held_overhead + 9);
  const auto h = parse_held_payload(p);
  REQUIRE(h);
  CHECK(h->id == 0x00ab0000000000cdULL);
  CHECK(h->payload == "far\nhello");
  CHECK_FALSE(parse_held_payload("far\nhello"));
  CHECK_FALSE(parse_held_payload("00000000000000zz\nx"));
}

TEST_CASE("a holding inbox lives in a directory of its own and is removed with it once drained") {
  sluice::test::temp_dir dir;
  auto out = sluice::inbox::inbox::open_or_create(dir.path(), "bridge-east");
  REQUIRE(out);
  CHECK(held_destinations(dir.path(), "east").empty());
  {
    auto held = open_held_inbox(dir.path(), "east", "far", out->snapshot());
    REQUIRE(held);
    // Room for the largest payload the outbound inbox takes, plus the id line.
    CHECK(held->snapshot().max_payload >= out->snapshot().max_payload + held_overhead);
    CHECK(held->capacity() == out->capacity());
  }
  CHECK(held_destinations(dir.path(), "east") == std::vector<std::string>{"far"});
  CHECK(std::filesystem::exists(held_directory(dir.path(), "east")));
  remove_held_inbox(dir.path(), "east", "far");
  CHECK_FALSE(std::filesystem::exists(held_directory(dir.path(), "east")));
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
  s.held = 9;
  s.tls = true;
  s.outbound = "bridge-east";
  REQUIRE(sluice::runtime::write_bridge_status(dir.path(), s));
  s.peer = "north";
  s.state = "backoff";
  s.outbound = "bridge-north";
  REQUIRE(sluice::runtime::write_bridge_status(dir.path(), s));
  std::ofstream(dir.path() / "bridge-broken.json") << "{not json";
  std::ofstream(dir.path() / "bridge-east.inbox") << "x";
  const auto all = sluice::runtime::read_bridge_statuses(dir.path());
  REQUIRE(all.size() == 2);
  CHECK(all[0].peer == "east");
  CHECK(all[0].state == "connected");
  CHECK(all[0].credits == 7);
  CHECK(all[0].in_flight == 3);
  CHECK(all[0].resent == 4);
  CHECK(all[0].held == 9);
  CHECK(all[0].tls);
  CHECK(all[1].peer == "north");
  CHECK(all[1].state == "backoff");
  CHECK(sluice::runtime::read_bridge_statuses(dir.path() / "missing").empty());
  // get-stats finds a link by its outbound inbox.
  auto east = sluice::runtime::bridge_status_of_inbox(dir.path(), "bridge-east");
  REQUIRE(east);
  CHECK(east->peer == "east");
  CHECK_FALSE(sluice::runtime::bridge_status_of_inbox(dir.path(), "far"));
}
