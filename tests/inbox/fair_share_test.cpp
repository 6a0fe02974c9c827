// Fair share between senders (inbox/fair_share.hpp): below half full anyone sends; the upper
// half is split among the senders holding messages in it, so a flood cannot keep the others out.
#include "inbox/fair_share.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "inbox/impl.hpp"
#include "inbox/inbox.hpp"
#include "messages.hpp"
#include "support/await.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;
using namespace sluice::inbox::testing;
using namespace sluice::test;

namespace {

constexpr std::uint32_t capacity = 100;

inbox make(const temp_bus& bus) {
  auto in = inbox::open_or_create(bus.dir(), "sink", create_options{capacity, 4, 256, 0600});
  REQUIRE(in);
  return std::move(in.value());
}

push_result push_from(inbox& in, std::string_view from, priority p = priority::normal) {
  return in.try_push(msg("x", p, from));
}

std::size_t fill_from(inbox& in, std::string_view from) {
  std::size_t n = 0;
  while (push_from(in, from) == push_result::ok) ++n;
  return n;
}

void consume(consumer& c, std::size_t n) {
  REQUIRE(c.pop_batch(n).size() == n);
  c.commit();
}

// What the cells say every sender holds, summed (the consumer's count is exact once committed).
std::int64_t counted(inbox& in) {
  std::int64_t sum = 0;
  for (const auto& cell : detail::inbox_access::of(in).h->senders) sum += cell.pending.load();
  return sum;
}

std::int64_t held_by(inbox& in, std::string_view name) {
  const std::uint64_t key = detail::sender_hash(name);
  for (const auto& cell : detail::inbox_access::of(in).h->senders)
    if (cell.sender.load() == key) return cell.pending.load();
  return 0;
}

}  // namespace

TEST_CASE("a sender alone may fill the whole inbox") {
  temp_bus bus;
  auto in = make(bus);
  CHECK(fill_from(in, "flood") == capacity);
  CHECK(in.snapshot().fair_share_refusals == 0);
}

TEST_CASE(
    "above half full a flooding sender is held to its share while another sender gets every freed "
    "slot") {
  temp_bus bus;
  auto in = make(bus);
  auto c = in.attach_consumer();
  REQUIRE(c);
  REQUIRE(fill_from(in, "flood") == capacity);
  CHECK(push_from(in, "polite") == push_result::full);  // refused for room: active from now on
  consume(c.value(), 10);
  // The flood holds 50 counted messages in the upper half; with the polite sender active the
  // share is 25 each, so every freed slot goes to the polite sender, even when the flood asks
  // first.
  for (int i = 0; i < 10; ++i) {
    CHECK(push_from(in, "flood") == push_result::full);
    CHECK(push_from(in, "polite") == push_result::ok);
  }
  CHECK(push_from(in, "polite") == push_result::full);  // no room left at all
  const auto s = in.snapshot();
  CHECK(s.fair_share_refusals == 10);
  CHECK(s.rejected_full ==
        13);  // the fill's last push, polite's first, the ten above, the last one
}

TEST_CASE("a sender within its share is admitted above half full, and beyond it is answered full") {
  temp_bus bus;
  auto in = make(bus);
  // 50 below half, uncounted; then the upper half: three senders each get a third of 50.
  REQUIRE(fill_from(in, "base") == capacity);
  auto c = in.attach_consumer();
  REQUIRE(c);
  consume(c.value(), 60);  // 40 left, all of base's; base's counted ones are still pending
  // 40 outstanding < 50: anyone may send, uncounted, up to half.
  for (int i = 0; i < 10; ++i) REQUIRE(push_from(in, "a") == push_result::ok);
  // Half full now: a and b are counted from here; base holds 40 counted, so active = 3.
  std::size_t a = 0;
  std::size_t b = 0;
  for (int i = 0; i < 50; ++i) {
    a += push_from(in, "a") == push_result::ok ? 1 : 0;
    b += push_from(in, "b") == push_result::ok ? 1 : 0;
  }
  CHECK(a == 50 / 3);
  CHECK(b == 50 / 3);
  CHECK(in.snapshot().fair_share_refusals > 0);
}

TEST_CASE(
    "messages the consumer takes are counted out once, even when it re-reads an uncommitted "
    "batch") {
  temp_bus bus;
  auto in = make(bus);
  REQUIRE(fill_from(in, "flood") == capacity);
  CHECK(counted(in) == capacity / 2);
  auto c = in.attach_consumer();
  REQUIRE(c);
  REQUIRE(c.value().pop_batch(capacity).size() == capacity);
  REQUIRE(c.value().pop_batch(capacity).size() == capacity);  // the same batch again
  c.value().commit();
  CHECK(counted(in) == 0);
  CHECK(fill_from(in, "flood") == capacity);  // its whole share came back
}

TEST_CASE("a pipelined commit counts out only the messages of its own prefix") {
  temp_bus bus;
  auto in = make(bus);
  REQUIRE(fill_from(in, "flood") == capacity);
  REQUIRE(counted(in) == capacity / 2);  // the upper half's messages
  auto c = in.attach_consumer();
  REQUIRE(c);
  std::vector<received_message> buf(capacity);
  std::uint64_t lower = 0;
  std::uint64_t upper = 0;
  REQUIRE(c.value().pop_next(buf.data(), capacity / 2 + 10, lower) == capacity / 2 + 10);
  REQUIRE(c.value().pop_next(buf.data(), capacity, upper) == capacity / 2 - 10);
  REQUIRE(c.value().commit_through(lower));
  CHECK(counted(in) == capacity / 2 - 10);  // the ten counted ones of the first batch only
  REQUIRE(c.value().commit_through(upper));
  CHECK(counted(in) == 0);
}

TEST_CASE("a batch of several senders is counted against each of them") {
  temp_bus bus;
  auto in = make(bus);
  for (std::uint32_t i = 0; i < capacity / 2; ++i)
    REQUIRE(push_from(in, "base") == push_result::ok);
  std::vector<message_view> batch;
  for (int i = 0; i < 30; ++i) batch.push_back(msg("x", priority::normal, "a"));
  for (int i = 0; i < 30; ++i) batch.push_back(msg("x", priority::normal, "b"));
  push_result stopped = push_result::ok;
  CHECK(in.try_push_batch(batch.data(), batch.size(), &stopped) == 50);
  CHECK(stopped == push_result::full);
  CHECK(held_by(in, "base") == 0);  // below half: not counted
  CHECK(held_by(in, "a") == 30);    // alone in the upper half: no limit
  CHECK(held_by(in, "b") == 20);    // share 25, but only 20 slots were left
}

TEST_CASE("drop-oldest never evicts other senders' messages for a sender over its share") {
  temp_bus bus;
  auto in = make(bus);
  REQUIRE(fill_from(in, "flood") == capacity);
  {
    auto c = in.attach_consumer();
    REQUIRE(c);
    consume(c.value(), 10);
  }  // no consumer now: drop-oldest may evict
  for (int i = 0; i < 10; ++i) REQUIRE(push_from(in, "polite") == push_result::ok);
  CHECK(in.try_push(msg("x", priority::normal, "flood"), nullptr, overflow_policy::drop_oldest) ==
        push_result::full);
  CHECK(in.snapshot().dropped == 0);
  // A sender within its share still evicts the oldest message, as drop-oldest promises.
  CHECK(in.try_push(msg("x", priority::normal, "polite"), nullptr, overflow_policy::drop_oldest) ==
        push_result::ok);
  CHECK(in.snapshot().dropped == 1);
}

TEST_CASE("a flooding process cannot take the freed slots from a sender in another process") {
  temp_bus bus;
  auto in = make(bus);
  auto c = in.attach_consumer();
  REQUIRE(c);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t flooder = ::fork();
  REQUIRE(flooder >= 0);
  if (flooder == 0) {
    auto mine = inbox::open(bus.dir(), "sink");
    if (!mine) ::_exit(2);
    std::size_t n = 0;
    while (push_from(mine.value(), "flood") == push_result::ok) ++n;
    (void)!::write(ready[1], "r", 1);
    for (;;) (void)push_from(mine.value(), "flood");  // until killed: it takes any slot it may
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  REQUIRE(push_from(in, "polite") == push_result::full);  // refused for room: now it counts
  consume(c.value(), 20);
  // A sender's first refusal after an admission holds a ticket for the moment it takes
  // (push.cpp), and a process may be descheduled inside it for as long as the scheduler likes:
  // the polite sender asks until it has all 20, awaited rather than counted. The flood never
  // gets one.
  std::size_t polite = 0;
  CHECK(eventually([&] {
    while (polite < 20 && push_from(in, "polite") == push_result::ok) ++polite;
    return polite == 20;
  }));
  CHECK(held_by(in, "flood") == 50);
  // The flood keeps asking: what refuses it is its share (room was there for the polite sender).
  CHECK(eventually([&] { return in.snapshot().fair_share_refusals > 0; }));
  ::kill(flooder, SIGKILL);
  int status = 0;
  ::waitpid(flooder, &status, 0);
}

TEST_CASE(
    "senders and a consumer SIGKILLed at random points never leave a share stricter than the "
    "truth") {
  temp_bus bus;
  auto in = make(bus);
  std::mt19937 rng(20261206);
  auto spawn = [](auto body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      body();
      ::_exit(0);
    }
    return pid;
  };
  for (int round = 0; round < 20; ++round) {
    const auto dir = bus.dir();
    std::vector<pid_t> pids;
    for (const char* name : {"flood-a", "flood-b"}) {
      pids.push_back(spawn([&] {
        auto mine = inbox::open(dir, "sink");
        if (!mine) return;
        for (;;) (void)push_from(mine.value(), name);
      }));
    }
    pids.push_back(spawn([&] {
      auto mine = inbox::open(dir, "sink");
      if (!mine) return;
      for (;;) {  // the last round's consumer may still hold the lock for a moment
        auto c = mine.value().attach_consumer();
        if (!c) continue;
        for (;;) {
          (void)c.value().pop_batch(7);
          c.value().commit();
        }
      }
    }));
    // Kill them after a random amount of traffic, wherever they are.
    const std::uint64_t start = in.snapshot().dequeued;
    const std::uint64_t more = std::uniform_int_distribution<std::uint64_t>(1, 2000)(rng);
    REQUIRE(eventually([&] { return in.snapshot().dequeued >= start + more; }));
    for (const pid_t p : pids) ::kill(p, SIGKILL);
    for (const pid_t p : pids) ::waitpid(p, nullptr, 0);
  }
  // Drain what is left: with the inbox empty, no cell may say a sender still holds messages.
  auto c = in.attach_consumer();
  REQUIRE(c);
  // A slot a killed sender claimed but never published is skipped after the grace period (the
  // commit after an empty batch commits the skip).
  REQUIRE(eventually([&] {
    for (bool more = true; more;) {
      more = !c.value().pop_batch(64).empty();
      c.value().commit();
    }
    return in.size() == 0;
  }));
  for (const auto& cell : detail::inbox_access::of(in).h->senders) CHECK(cell.pending.load() <= 0);
  // So a new sender gets at least its share beside the two floods, which count as active for a
  // second after their last refusal (fair_share.cpp), not less.
  CHECK(fill_from(in, "alone") >= capacity / 2 + (capacity - capacity / 2) / 3);
}
