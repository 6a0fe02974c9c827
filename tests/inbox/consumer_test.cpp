// The single consumer: exclusive lock, commit, redelivery of an uncommitted batch.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inbox/inbox.hpp"
#include "messages.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"
#include "test_inbox.hpp"

using namespace sluice::inbox;
using testing::make_small_inbox;
using testing::msg;

TEST_CASE("a second consumer is refused with busy and the pid of the first") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  auto first = in.attach_consumer();
  REQUIRE(first);
  auto again = in.attach_consumer();
  REQUIRE_FALSE(again);
  CHECK(again.err().code == errc::busy);
  auto other = inbox::open(bus.dir(), "a");
  REQUIRE(other);
  auto second = other->attach_consumer();
  REQUIRE_FALSE(second);
  CHECK(second.err().code == errc::busy);
  CHECK(second.err().message ==
        "inbox already has a consumer (pid " + std::to_string(::getpid()) + ")");
  CHECK(in.snapshot().consumer_pid == ::getpid());
}

TEST_CASE("the consumer lock is free again once the consumer is gone") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  {
    auto first = in.attach_consumer();
    REQUIRE(first);
  }
  CHECK(in.snapshot().consumer_pid == 0);
  CHECK(in.snapshot().recorded_consumer_pid == 0);  // a consumer that let go leaves no pid
  auto other = inbox::open(bus.dir(), "a");
  REQUIRE(other);
  CHECK(other->attach_consumer());
}

TEST_CASE("a consumer process that exits without detaching does not block the next one") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  const pid_t child = sluice::test::spawn([&] {
    auto c = in.attach_consumer();
    return c ? 0 : 1;  // spawn exits with _exit: no destructor runs, the kernel drops the flock
  });
  REQUIRE(sluice::test::reap(child) == 0);
  CHECK(in.snapshot().consumer_pid == 0);
  CHECK(in.attach_consumer());
}

TEST_CASE("a consumer killed while attached is no longer the consumer but its pid stays recorded") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  const pid_t child = sluice::test::spawn([&] {
    auto c = in.attach_consumer();
    if (c) ::raise(SIGKILL);  // dies holding the consumer: nothing lets go
    return 1;
  });
  REQUIRE(sluice::test::reap(child) == 128 + SIGKILL);
  const auto s = in.snapshot();
  CHECK(s.consumer_pid == 0);
  // The header still names the dead consumer: what tells a crashed consumer from none.
  CHECK(s.recorded_consumer_pid == child);
}

TEST_CASE("pop_batch without commit delivers the same batch again") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  for (int i = 0; i < 5; ++i) REQUIRE(in.try_push(msg(std::to_string(i))) == push_result::ok);
  auto c = in.attach_consumer();
  REQUIRE(c);
  auto a = c->pop_batch(3);
  auto b = c->pop_batch(3);
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(a[i].id == b[i].id);
  c->commit();
  auto rest = c->pop_batch(10);
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].payload == "3");
}

TEST_CASE("a batch that was never committed goes to the next consumer") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  for (int i = 0; i < 4; ++i) REQUIRE(in.try_push(msg(std::to_string(i))) == push_result::ok);
  {
    auto c = in.attach_consumer();
    REQUIRE(c);
    auto first = c->pop_batch(2);
    REQUIRE(first.size() == 2);
    c->commit();
    CHECK(c->pop_batch(2).size() == 2);  // read, never committed
  }
  auto next = in.attach_consumer();
  REQUIRE(next);
  auto batch = next->pop_batch(10);
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].payload == "2");
  CHECK(batch[1].payload == "3");
}

TEST_CASE("commit frees space so a full inbox accepts again") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  while (in.try_push(msg("x")) == push_result::ok) {
  }
  CHECK(in.full());
  auto c = in.attach_consumer();
  REQUIRE(c);
  CHECK(c->pop_batch(4).size() == 4);
  CHECK(in.full());  // not yet committed
  c->commit();
  CHECK_FALSE(in.full());
  for (int i = 0; i < 4; ++i) CHECK(in.try_push(msg("y")) == push_result::ok);
  CHECK(in.try_push(msg("z")) == push_result::full);
}
