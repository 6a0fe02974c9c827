// Doorbells: a sleeper is woken by another process, and a timeout is reported as such.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "inbox/impl.hpp"
#include "inbox/inbox.hpp"
#include "inbox/layout.hpp"
#include "messages.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;
using namespace std::chrono_literals;
using testing::msg;

namespace {

inbox make(const sluice::test::temp_bus& bus, std::uint32_t capacity = 4) {
  create_options opts;
  opts.capacity = capacity;
  auto r = inbox::open_or_create(bus.dir(), "a", opts);
  REQUIRE(r);
  return std::move(r).value();
}

// The shared header behind an inbox, to see who sleeps on a doorbell.
const layout::header& header_of(inbox& in) {
  return *detail::inbox_access::of(in).h;
}

// Spins until some process sleeps on the doorbell (the test then rings it for real).
void await_sleeper(const layout::doorbell& d) {
  while (d.waiters.load() == 0) {
  }
}

}  // namespace

TEST_CASE("waiting on an empty inbox with nobody sending times out") {
  sluice::test::temp_bus bus;
  auto in = make(bus);
  auto c = in.attach_consumer();
  REQUIRE(c);
  CHECK(in.wait_not_empty(20ms) == wake_reason::timed_out);
}

TEST_CASE("waiting on an inbox that already holds a message returns rang at once") {
  sluice::test::temp_bus bus;
  auto in = make(bus);
  REQUIRE(in.try_push(msg("x")) == push_result::ok);
  auto c = in.attach_consumer();
  REQUIRE(c);
  CHECK(in.wait_not_empty(10s) == wake_reason::rang);
}

TEST_CASE("a consumer asleep on not_empty is woken by a producer in another process") {
  sluice::test::temp_bus bus;
  auto in = make(bus);
  auto c = in.attach_consumer();
  REQUIRE(c);
  const pid_t child = sluice::test::spawn([&] {
    auto out = inbox::open(bus.dir(), "a");
    if (!out) return 2;
    // Send only once the consumer sleeps, so the wake-up must come through the bell.
    await_sleeper(header_of(*out).not_empty);
    return out->try_push(msg("hello")) == push_result::ok ? 0 : 1;
  });
  CHECK(in.wait_not_empty(30s) == wake_reason::rang);
  auto batch = c->pop_batch(1);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].payload == "hello");
  CHECK(sluice::test::reap(child) == 0);
}

TEST_CASE("a sender waiting on a full inbox times out when nobody consumes") {
  sluice::test::temp_bus bus;
  auto in = make(bus);
  while (in.try_push(msg("x")) == push_result::ok) {
  }
  CHECK(in.wait_not_full(20ms) == wake_reason::timed_out);
}

TEST_CASE("a sender asleep on not_full is woken when a consumer in another process commits") {
  sluice::test::temp_bus bus;
  auto in = make(bus);
  while (in.try_push(msg("x")) == push_result::ok) {
  }
  const pid_t child = sluice::test::spawn([&] {
    auto other = inbox::open(bus.dir(), "a");
    if (!other) return 2;
    auto c = other->attach_consumer();
    if (!c) return 3;
    await_sleeper(header_of(*other).not_full);
    if (c->pop_batch(1).size() != 1) return 4;
    c->commit();
    return 0;
  });
  CHECK(in.wait_not_full(30s) == wake_reason::rang);
  CHECK(in.try_push(msg("y")) == push_result::ok);
  CHECK(sluice::test::reap(child) == 0);
}

TEST_CASE("closing an inbox wakes a sleeping consumer") {
  sluice::test::temp_bus bus;
  auto in = make(bus);
  auto c = in.attach_consumer();
  REQUIRE(c);
  const pid_t child = sluice::test::spawn([&] {
    auto other = inbox::open(bus.dir(), "a");
    if (!other) return 2;
    await_sleeper(header_of(*other).not_empty);
    other->close();
    return 0;
  });
  CHECK(in.wait_not_empty(30s) == wake_reason::rang);
  CHECK(sluice::test::reap(child) == 0);
}
