// The link actors in this process, driven by the test as their far side: the test reads each
// want and batch the sender puts on the wire and answers with acknowledgements and grants of
// its choosing, so a sequence that a real receiver produces only under load (a message parked
// on the far side while its destination spills here) is played exactly; it sends a receiver
// its messages in an order a dialing bridge can see. And the descriptor watch a sender waits
// on, over a pipe.
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/bridge/fd_watch.hpp"
#include "actors/bridge/held_inbox.hpp"
#include "actors/bridge/link.hpp"
#include "actors/bridge/read_ahead.hpp"
#include "actors/bridge/wire.hpp"
#include "backpressure/address.hpp"
#include "inbox/inbox.hpp"
#include "support/await.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;
using namespace sluice::actors;
using sluice::test::eventually;

namespace {

// A deadline for what the sender must do next, so a sender that stalls fails the test
// instead of hanging it.
constexpr auto reply_deadline = std::chrono::seconds(10);

struct link_harness {
  test::temp_dir bus;
  std::shared_ptr<bridge_context> ctx = std::make_shared<bridge_context>();
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> far;  // plays the far bridge's sender and receiver
  caf::actor sender;
  std::optional<inbox::inbox> out;

  explicit link_harness(std::size_t batch) {
    ctx->bus_dir = bus.path();
    ctx->name = "west";
    ctx->batch = batch;
    ctx->bell_recheck = std::chrono::hours(1);  // only the bell wakes the sender in time
    cfg.set("scheduler.max-threads", 2);
    cfg.load<caf::io::middleman>();
    sys = std::make_unique<caf::actor_system>(cfg);
    far = std::make_unique<caf::scoped_actor>(*sys);
  }
  ~link_harness() {
    if (sender) caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
    far.reset();
    sys.reset();
  }

  // The outbound inbox to east, and a message into it for `dest` on the far bus, as
  // `sluice send dest@east` puts it there.
  inbox::inbox& outbound() {
    if (!out) {
      auto opened = inbox::inbox::open_or_create(bus.path(), backpressure::outbound_inbox("east"));
      REQUIRE(opened);
      out.emplace(std::move(opened.value()));
    }
    return *out;
  }
  void push(const char* dest, const char* text) {
    REQUIRE(outbound().try_push({"t", "m", backpressure::wrap_envelope(dest, text)}) ==
            inbox::push_result::ok);
  }

  void start() {
    sender = spawn_bridge_sender(*sys, ctx, "east");
    const auto me = caf::actor_cast<caf::actor>(*far);
    caf::anon_send(sender, bridge_start_atom::value, me, me);
  }

  std::vector<std::string> expect_want() {
    std::vector<std::string> names;
    bool got = false;
    (*far)->receive(
        [&](bridge_want_atom, const std::string& blob) {
          auto n = wire::decode_names(blob);
          REQUIRE(n);
          names = *n;
          got = true;
        },
        caf::after(reply_deadline) >> [] {});
    REQUIRE(got);
    return names;
  }

  // (first_seq, "dest:payload" per record)
  std::pair<std::uint64_t, std::vector<std::string>> expect_batch() {
    std::pair<std::uint64_t, std::vector<std::string>> out;
    bool got = false;
    (*far)->receive(
        [&](bridge_batch_atom, const std::string& blob) {
          wire::batch b;
          REQUIRE_FALSE(wire::read_batch(blob, b));
          out.first = b.first_seq;
          for (const auto& r : b.records)
            out.second.push_back(std::string(r.dest) + ":" + std::string(r.payload));
          got = true;
        },
        caf::after(reply_deadline) >> [] {});
    REQUIRE(got);
    return out;
  }

  void ack(std::uint64_t through, std::vector<std::uint64_t> parked,
           std::vector<std::pair<std::string, std::uint64_t>> grants) {
    wire::ack a;
    a.through = through;
    a.parked = std::move(parked);
    a.grants = std::move(grants);
    (*far)->send(sender, bridge_ack_atom::value, wire::encode_ack(a));
  }
};

using rang_atom = caf::atom_constant<caf::atom("rang")>;

// Owns the pipe's read end and closes it as it goes, right after the watch, as a link sender
// does with its bell.
struct pipe_watcher_state {
  int fd = -1;
  std::unique_ptr<fd_watch> watch;
  ~pipe_watcher_state() {
    watch.reset();
    if (fd >= 0) ::close(fd);
  }
};

// A broker, as the link actors are, told by an fd_watch when the pipe has bytes: it drains them
// and says so to `tell`.
caf::behavior pipe_watcher(caf::io::stateful_broker<pipe_watcher_state>* self, int fd,
                           caf::actor tell) {
  self->state.fd = fd;
  self->state.watch = std::make_unique<fd_watch>(self->system(), fd, [fd, tell] {
    char buf[64];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    caf::anon_send(tell, rang_atom::value);
  });
  return {[](int) {}};
}

std::uint64_t held_size(const std::filesystem::path& bus, const std::string& dest) {
  auto b = inbox::inbox::open(held_directory(bus, "east"), dest);
  return b ? b->size() : 0;
}

}  // namespace

TEST_CASE(
    "a batch whose last diverted message moves when an earlier one is acknowledged is "
    "committed, and the link goes on without another grant") {
  link_harness h(4);  // batches of 4
  auto& out = h.outbound();
  // The first batch: two messages each for 'slow' and 'c'; four more wait behind it.
  h.push("slow", "0");
  h.push("slow", "1");
  h.push("c", "0");
  h.push("c", "1");
  for (const char* t : {"0", "1", "2", "3"}) h.push("open", t);
  h.start();

  CHECK(h.expect_want() == std::vector<std::string>{"slow", "c"});
  h.ack(0, {}, {{"slow", 1}, {"c", 1}});
  const auto first = h.expect_batch();
  CHECK(first.first == 1);
  CHECK(first.second == std::vector<std::string>{"slow:0", "c:0"});
  // c:0 went in and slow:0 is parked on the far side; neither gets more credit. The batch now
  // waits on used-up credit while others wait behind it: both destinations spill. c:1 moves
  // into its holding inbox at once; slow:1 only once slow:0 has arrived.
  h.ack(2, {1}, {{"slow", 1}, {"c", 1}});
  REQUIRE(eventually([&] { return held_size(h.bus.path(), "c") == 1; }));
  CHECK(held_size(h.bus.path(), "slow") == 0);
  CHECK(out.size() == 8);

  // slow:0 is delivered (an ack with nothing parked, no fresh credit: the far inbox is as full
  // as before). Moving slow:1 settles the last message of the batch, so the sender commits it
  // and reads the next one, asking credit for 'open': nothing else will wake it.
  h.ack(2, {}, {});
  CHECK(h.expect_want() == std::vector<std::string>{"open"});
  CHECK(out.size() == 4);
  CHECK(held_size(h.bus.path(), "slow") == 1);

  // With credit everything goes: the outbound batch first, then each holding inbox in order.
  h.ack(2, {}, {{"open", 4}, {"slow", 2}, {"c", 2}});
  std::vector<std::string> sent;
  std::uint64_t next_seq = 3;
  while (sent.size() < 6) {
    const auto b = h.expect_batch();
    CHECK(b.first == next_seq);
    next_seq += b.second.size();
    sent.insert(sent.end(), b.second.begin(), b.second.end());
  }
  CHECK(sent == std::vector<std::string>{"open:0", "open:1", "open:2", "open:3", "c:1", "slow:1"});
  h.ack(next_seq - 1, {}, {});
  // Everything acknowledged: the outbound inbox is empty and the holding inboxes are gone.
  REQUIRE(eventually([&] {
    return out.size() == 0 && !std::filesystem::exists(held_directory(h.bus.path(), "east"));
  }));
}

TEST_CASE(
    "a message published while the last one is unacknowledged goes on the wire at once, a "
    "third waits for an acknowledgement, and the inbox is committed only as far as its front "
    "is acknowledged") {
  link_harness h(8);
  auto& out = h.outbound();
  auto push = [&](const char* text) { h.push("far", text); };
  const auto batch_of = [](std::uint64_t seq, const char* record) {
    return std::make_pair(seq, std::vector<std::string>{record});
  };
  const auto acked = [&] { return h.ctx->peer("east")->acked.load(); };
  push("0");
  h.start();
  CHECK(h.expect_want() == std::vector<std::string>{"far"});
  h.ack(0, {}, {{"far", 8}});
  CHECK(h.expect_batch() == batch_of(1, "far:0"));
  // No acknowledgement yet: the next message does not wait for one.
  push("1");
  CHECK(h.expect_batch() == batch_of(2, "far:1"));
  // Two reads on the wire: the third message waits for an acknowledgement, then leaves.
  push("2");
  h.ack(1, {}, {});
  CHECK(h.expect_batch() == batch_of(3, "far:2"));
  CHECK(out.size() == 2);  // "0" committed
  // "1" is parked on the far side and "2" arrived: the front is not settled, so nothing more
  // may leave the inbox, and "3" waits behind the two reads on the wire.
  push("3");
  h.ack(3, {2}, {});
  REQUIRE(eventually([&] { return acked() == 2; }));
  CHECK(out.size() == 3);
  h.ack(3, {}, {});
  CHECK(h.expect_batch() == batch_of(4, "far:3"));
  h.ack(4, {}, {});
  REQUIRE(eventually([&] { return out.size() == 0; }));
}

TEST_CASE(
    "messages a dropped connection sent unacknowledged count as resent on the next one and new "
    "ones as sent") {
  link_harness h(8);
  auto& out = h.outbound();
  auto push = [&](const char* text) { h.push("far", text); };
  const auto peer = h.ctx->peer("east");
  push("0");
  push("1");
  h.start();
  CHECK(h.expect_want() == std::vector<std::string>{"far"});
  h.ack(0, {}, {{"far", 8}});
  CHECK(h.expect_batch().second == std::vector<std::string>{"far:0", "far:1"});
  // Counted just after the batch leaves.
  REQUIRE(eventually([&] { return peer->sent.load() == 2; }));

  // The connection drops before an acknowledgement: its sender ends and a new one starts.
  (*h.far)->monitor(h.sender);
  caf::anon_send_exit(h.sender, caf::exit_reason::user_shutdown);
  bool ended = false;
  (*h.far)->receive([&](const caf::down_msg&) { ended = true; },
                    caf::after(reply_deadline) >> [] {});
  REQUIRE(ended);
  h.start();
  CHECK(h.expect_want() == std::vector<std::string>{"far"});
  h.ack(0, {}, {{"far", 8}});
  CHECK(h.expect_batch() ==
        std::make_pair(std::uint64_t{1}, std::vector<std::string>{"far:0", "far:1"}));
  REQUIRE(eventually([&] { return peer->resent.load() == 2; }));
  CHECK(peer->sent.load() == 2);
  h.ack(2, {}, {});
  REQUIRE(eventually([&] { return out.size() == 0; }));

  // Committed, they are forgotten: the next message is new.
  push("2");
  CHECK(h.expect_batch().second == std::vector<std::string>{"far:2"});
  REQUIRE(eventually([&] { return peer->sent.load() == 3; }));
  CHECK(peer->resent.load() == 2);
  h.ack(3, {}, {});
  REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> lock(peer->m);
    return out.size() == 0 && peer->transmitted[""].empty();
  }));
}

TEST_CASE("a receiver answers a credit request that arrived before its start, once started") {
  link_harness h(4);
  const auto receiver = spawn_bridge_receiver(*h.sys, h.ctx, "east");
  const auto me = caf::actor_cast<caf::actor>(*h.far);
  // The order a dialing bridge can see: the far pair started first, and the far sender's first
  // credit request overtook this side's start.
  caf::anon_send(receiver, bridge_want_atom::value, wire::encode_names({"far"}));
  caf::anon_send(receiver, bridge_start_atom::value, me, me);
  std::optional<wire::ack> got;
  (*h.far)->receive([&](bridge_ack_atom, const std::string& blob) { got = wire::decode_ack(blob); },
                    caf::after(reply_deadline) >> [] {});
  caf::anon_send_exit(receiver, caf::exit_reason::user_shutdown);
  REQUIRE(got);
  REQUIRE(got->grants.size() == 1);
  CHECK(got->grants[0].first == "far");
  CHECK(got->grants[0].second > 0);
}

TEST_CASE(
    "a broker watching a descriptor is told on CAF's I/O thread each time it gets bytes, and "
    "may close it as it stops") {
  link_harness h(4);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const auto me = caf::actor_cast<caf::actor>(*h.far);
  const auto watcher = h.sys->middleman().spawn_broker(pipe_watcher, fds[0], me);
  const auto rang = [&] {
    bool got = false;
    (*h.far)->receive([&](rang_atom) { got = true; }, caf::after(reply_deadline) >> [] {});
    return got;
  };
  for (int round = 0; round < 3; ++round) {
    REQUIRE(::write(fds[1], "x", 1) == 1);
    REQUIRE(rang());
  }
  // Stopping the broker takes its descriptor out of the loop, though the broker closed it at
  // once; the actor system still ends (a descriptor left registered would keep CAF's I/O loop,
  // and so this test, from ending).
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  h.far.reset();
  h.sys.reset();
  ::close(fds[1]);
}

// The plaintext scribe's read-ahead (read_ahead.hpp), called as CAF's stream calls it, over a
// socketpair.
TEST_CASE("reading ahead serves a frame from one recv and goes back to the loop when drained") {
  using caf::io::network::rw_state;
  using sluice::actors::read_ahead_tcp;
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  const std::string header(32, 'h');
  const std::string payload(55, 'p');
  REQUIRE(::write(fds[1], (header + payload).data(), 87) == 87);
  read_ahead_tcp policy;
  std::vector<char> buf(64 * 1024);
  std::size_t got = 0;
  REQUIRE(policy.read_some(got, fds[0], buf.data(), 32) == rw_state::success);
  CHECK(std::string(buf.data(), got) == header);
  CHECK(policy.must_read_more(fds[0], 0));  // the payload waits in the buffer
  REQUIRE(policy.read_some(got, fds[0], buf.data(), 55) == rw_state::success);
  CHECK(std::string(buf.data(), got) == payload);
  CHECK_FALSE(policy.must_read_more(fds[0], 0));
  // The recv came back short: the next call answers "nothing" without looking at the socket
  // (what came since is the loop's to report), and the one after reads it.
  REQUIRE(::write(fds[1], "later", 5) == 5);
  REQUIRE(policy.read_some(got, fds[0], buf.data(), 32) == rw_state::success);
  CHECK(got == 0);
  REQUIRE(policy.read_some(got, fds[0], buf.data(), 32) == rw_state::success);
  CHECK(std::string(buf.data(), got) == "later");
  // A read as large as the buffer goes straight to the caller.
  const std::string big(read_ahead_tcp::buffer_size + 100, 'b');
  std::size_t sent = 0;
  while (sent < big.size()) {
    const auto w = ::write(fds[1], big.data() + sent, big.size() - sent);
    REQUIRE(w > 0);
    sent += static_cast<std::size_t>(w);
  }
  (void)policy.read_some(got, fds[0], buf.data(), 32);  // drained flag from "later": nothing
  std::string taken;
  while (taken.size() < big.size()) {
    REQUIRE(policy.read_some(got, fds[0], buf.data(), big.size() - taken.size()) ==
            rw_state::success);
    taken.append(buf.data(), got);
  }
  CHECK(taken == big);
  CHECK_FALSE(policy.must_read_more(fds[0], 0));
  // Bytes already read ahead are served even after the peer closed; then the close shows.
  REQUIRE(::write(fds[1], "0123456789", 10) == 10);
  ::close(fds[1]);
  REQUIRE(policy.read_some(got, fds[0], buf.data(), 4) == rw_state::success);
  CHECK(std::string(buf.data(), got) == "0123");
  REQUIRE(policy.read_some(got, fds[0], buf.data(), 6) == rw_state::success);
  CHECK(std::string(buf.data(), got) == "456789");
  rw_state last = rw_state::success;
  for (int i = 0; i < 3 && last == rw_state::success; ++i)
    last = policy.read_some(got, fds[0], buf.data(), 32);
  CHECK(last == rw_state::failure);
  ::close(fds[0]);
}
