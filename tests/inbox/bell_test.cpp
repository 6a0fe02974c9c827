// A consumer's bell (inbox/bell.hpp): an event loop's descriptor that a producer in another
// process makes readable, once per arming.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "inbox/impl.hpp"
#include "inbox/inbox.hpp"
#include "inbox/layout.hpp"
#include "messages.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"
#include "test_inbox.hpp"

using namespace sluice::inbox;
using testing::make_inbox;
using testing::msg;

namespace {

bell open_bell() {
  auto b = bell::open();
  REQUIRE(b);
  return std::move(b).value();
}

// What an event loop would do: wait until the descriptor is readable (a long bound only so
// a broken bell fails the test instead of hanging it).
bool rings(const bell& b, int timeout_ms = 30000) {
  pollfd p{b.fd(), POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

int pending_datagrams(const bell& b) {
  int n = 0;
  char byte;
  while (::recv(b.fd(), &byte, 1, MSG_DONTWAIT) == 1) ++n;
  return n;
}

std::uint64_t armed_name(inbox& in) {
  return detail::inbox_access::of(in).h->not_empty.socket.load();
}

// A consumer process arms a bell and dies without a destructor running.
void die_with_bell_armed(const sluice::test::temp_bus& bus) {
  const pid_t child = sluice::test::spawn([&] {
    auto in = inbox::open_or_create(bus.dir(), "a");
    if (!in) return 2;
    auto c = in->attach_consumer();
    if (!c) return 3;
    auto b = bell::open();
    if (!b || !c->arm(*b)) return 4;
    ::_exit(0);
  });
  REQUIRE(sluice::test::reap(child) == 0);
}

}  // namespace

TEST_CASE("an armed bell is rung by a producer in another process, once per arming") {
  sluice::test::temp_bus bus;
  auto in = make_inbox(bus);
  auto c = in.attach_consumer();
  REQUIRE(c);
  auto b = open_bell();
  REQUIRE(c->arm(b));
  CHECK(armed_name(in) == b.name());
  const pid_t child = sluice::test::spawn([&] {
    auto out = inbox::open(bus.dir(), "a");
    if (!out) return 2;
    for (int i = 0; i < 3; ++i) {
      if (out->try_push(msg("m")) != push_result::ok) return 1;
    }
    return 0;
  });
  CHECK(sluice::test::reap(child) == 0);
  REQUIRE(rings(b));
  CHECK(pending_datagrams(b) == 1);  // three publishes, one datagram
  CHECK(armed_name(in) == 0);        // the ringer took the bell
  CHECK(c->pop_batch(10).size() == 3);
}

TEST_CASE("arming a bell over an inbox that already holds a message answers false") {
  sluice::test::temp_bus bus;
  auto in = make_inbox(bus);
  REQUIRE(in.try_push(msg("x")) == push_result::ok);
  auto c = in.attach_consumer();
  REQUIRE(c);
  auto b = open_bell();
  CHECK_FALSE(c->arm(b));
  CHECK(armed_name(in) == 0);
}

TEST_CASE("a bell looks past the uncommitted batch, as wait_not_empty does") {
  sluice::test::temp_bus bus;
  auto in = make_inbox(bus);
  REQUIRE(in.try_push(msg("x")) == push_result::ok);
  auto c = in.attach_consumer();
  REQUIRE(c);
  REQUIRE(c->pop_batch(10).size() == 1);
  auto b = open_bell();
  CHECK(c->arm(b));  // the popped message is not news
}

TEST_CASE("a disarmed bell is not rung by later publishes") {
  sluice::test::temp_bus bus;
  auto in = make_inbox(bus);
  auto c = in.attach_consumer();
  REQUIRE(c);
  auto b = open_bell();
  REQUIRE(c->arm(b));
  c->disarm();
  CHECK(armed_name(in) == 0);
  REQUIRE(in.try_push(msg("x")) == push_result::ok);
  CHECK_FALSE(rings(b, 0));
}

TEST_CASE("releasing a consumer takes its bell back") {
  sluice::test::temp_bus bus;
  auto in = make_inbox(bus);
  auto b = open_bell();
  {
    auto c = in.attach_consumer();
    REQUIRE(c);
    REQUIRE(c->arm(b));
  }
  CHECK(armed_name(in) == 0);
}

TEST_CASE(
    "a bell left armed by a dead consumer does not trouble producers: the first publish takes it") {
  sluice::test::temp_bus bus;
  die_with_bell_armed(bus);
  auto in = make_inbox(bus);
  CHECK(armed_name(in) != 0);
  CHECK(in.try_push(msg("x")) == push_result::ok);  // rings a bell nobody holds: no error
  CHECK(armed_name(in) == 0);
  auto c = in.attach_consumer();
  REQUIRE(c);
  CHECK(c->pop_batch(10).size() == 1);
}

TEST_CASE("a new consumer clears a bell its dead predecessor left armed") {
  sluice::test::temp_bus bus;
  die_with_bell_armed(bus);
  auto in = make_inbox(bus);
  REQUIRE(armed_name(in) != 0);
  auto c = in.attach_consumer();
  REQUIRE(c);
  CHECK(armed_name(in) == 0);
}

TEST_CASE("take_one answers one ring and leaves a stale datagram for the next arming to drain") {
  sluice::test::temp_bus bus;
  auto in = make_inbox(bus);
  auto c = in.attach_consumer();
  REQUIRE(c);
  const auto b = open_bell();
  // A ring, and a late datagram from an earlier arming's ringer.
  detail::ring_bell(b.name());
  detail::ring_bell(b.name());
  REQUIRE(rings(b));
  b.take_one();
  CHECK(rings(b, 0));  // one is still there
  REQUIRE(c->arm(b));  // arming drains it
  CHECK_FALSE(rings(b, 0));
  CHECK(pending_datagrams(b) == 0);
}
