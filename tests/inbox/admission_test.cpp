// Admission never lets more messages in than the capacity, whatever the interleaving of
// producers between taking a ticket and deciding on it. The interleaving below is the one a
// model check found for the old order (read what was given back *after* the ticket): a
// younger producer's refusal let an older one, and then the oldest, take the same room, one
// position too many; its slot was not free, and the consumer stalled a grace period on it
// (seen under load with 4 producers on 2 cores).
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "inbox/inbox.hpp"
#include "inbox/test_hooks.hpp"
#include "messages.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;
using namespace sluice::inbox::testing;
using namespace sluice::test;

namespace {

// Each producer, once it holds its ticket, lets the next one run to completion first.
struct interleaving {
  std::vector<inbox*> producers;
  std::vector<std::size_t> runs;
  std::vector<std::size_t> pushed;
  std::size_t depth = 0;
  std::vector<std::string> payloads;
};
interleaving* current = nullptr;

void push_batch(std::size_t who) {
  std::vector<message_view> batch;
  for (std::size_t i = 0; i < current->runs[who]; ++i)
    batch.push_back(
        msg(current->payloads.emplace_back("p" + std::to_string(who) + "." + std::to_string(i))));
  current->pushed[who] = current->producers[who]->try_push_batch(batch.data(), batch.size());
}

void run_next_producer() {
  if (current == nullptr || current->depth + 1 >= current->producers.size()) return;
  push_batch(++current->depth);
}

}  // namespace

TEST_CASE(
    "producers holding tickets while younger ones are refused never admit more than the "
    "capacity") {
  temp_bus bus;
  auto in = inbox::open_or_create(bus.dir(), "sink", create_options{4, 1, 256, 0600});
  REQUIRE(in);
  std::vector<inbox> handles;
  for (int i = 0; i < 3; ++i) handles.push_back(std::move(inbox::open(bus.dir(), "sink").value()));
  interleaving order;
  for (auto& h : handles) order.producers.push_back(&h);
  order.runs = {3, 2, 2};  // tickets [0,3) [3,5) [5,7) for 4 slots
  order.pushed = {0, 0, 0};
  order.payloads.reserve(16);
  current = &order;
  test_hooks::after_ticket = run_next_producer;
  push_batch(0);
  test_hooks::after_ticket = nullptr;
  current = nullptr;

  INFO("pushed " << order.pushed[0] << " + " << order.pushed[1] << " + " << order.pushed[2]);
  // The oldest ticket gets its whole run, the next the room left, the youngest none: full,
  // not over-full.
  CHECK(order.pushed[0] == 3);
  CHECK(order.pushed[1] == 1);
  CHECK(order.pushed[2] == 0);
  // Every admitted message sits in a slot the consumer can take at once: no position was
  // lost to a failed stamp, so nothing waits for a grace period or is counted abandoned.
  auto c = in->attach_consumer();
  REQUIRE(c);
  received_message got[8];
  CHECK(c->pop_batch(got, 8) == 4);
  c->commit();
  const auto s = in->snapshot();
  CHECK(s.abandoned == 0);
  CHECK(s.enqueued == 4);
  CHECK(in->size() == 0);
}

// A producer decides admission with `freed` as it last read it (push.cpp, step 1), which is
// stale as soon as the consumer commits. Stale may only mean "read it again", never a full
// answer, a rejected_full count or an eviction while there is room.
TEST_CASE(
    "a producer whose view of the freed slots is a lap old still fills the whole inbox, "
    "answering full only when it is") {
  temp_bus bus;
  auto in = inbox::open_or_create(bus.dir(), "sink", create_options{8, 1, 256, 0600});
  REQUIRE(in);
  auto producer = inbox::open(bus.dir(), "sink");
  REQUIRE(producer);
  received_message got[16];
  auto drain = [&] {
    auto c = in->attach_consumer();
    REQUIRE(c);
    CHECK(c->pop_batch(got, 16) == 8);
    c->commit();
  };
  auto fill_one_by_one = [&](overflow_policy policy) {
    for (int i = 0; i < 8; ++i)
      REQUIRE(producer->try_push(msg("m"), nullptr, policy) == push_result::ok);
  };

  fill_one_by_one(overflow_policy::reject);
  CHECK(producer->try_push(msg("over")) == push_result::full);
  drain();  // the producer last read `freed` before this commit

  SECTION("one at a time") {
    fill_one_by_one(overflow_policy::reject);
    CHECK(producer->try_push(msg("over")) == push_result::full);
    CHECK(in->snapshot().rejected_full == 2);
  }
  SECTION("in one batch") {
    std::vector<message_view> batch(9, msg("b"));
    push_result stopped = push_result::ok;
    CHECK(producer->try_push_batch(batch.data(), batch.size(), &stopped) == 8);
    CHECK(stopped == push_result::full);
    CHECK(in->snapshot().rejected_full == 2);
  }
  SECTION("with drop-oldest, nothing is dropped while there is room") {
    fill_one_by_one(overflow_policy::drop_oldest);
    CHECK(in->snapshot().dropped == 0);
    CHECK(producer->try_push(msg("evicts"), nullptr, overflow_policy::drop_oldest) ==
          push_result::ok);
    CHECK(in->snapshot().dropped == 1);
  }
  SECTION("with drop-oldest, a push into an inbox another producer filled drops exactly one") {
    auto other = inbox::open(bus.dir(), "sink");
    REQUIRE(other);
    for (int i = 0; i < 8; ++i) REQUIRE(other->try_push(msg("o")) == push_result::ok);
    CHECK(producer->try_push(msg("evicts"), nullptr, overflow_policy::drop_oldest) ==
          push_result::ok);
    CHECK(in->snapshot().dropped == 1);
  }
  CHECK(in->size() == 8);
}

namespace {

// What happens while the flooding sender holds a ticket: the consumer frees a slot and the
// polite sender pushes. Runs once (the polite push takes a ticket too).
struct descheduled_flooder {
  consumer* c = nullptr;
  inbox* polite = nullptr;
  bool ran = false;
  push_result polite_got = push_result::full;
  void run() {
    ran = true;
    received_message got[1];
    REQUIRE(c->pop_batch(got, 1) == 1);
    c->commit();
    polite_got = polite->try_push(msg("polite"));
  }
};
descheduled_flooder* stalled = nullptr;

void stall_flooder_here() {
  if (stalled == nullptr) return;
  auto* s = std::exchange(stalled, nullptr);
  s->run();
}

}  // namespace

// A refused ticket counts against the room until it is given back. A sender that keeps being
// refused must not hold one while it is, or another process's push sees a full inbox for as
// long as the refused sender is off the CPU (a flooding process descheduled there kept a
// freed slot from a polite sender for thousands of attempts under load).
TEST_CASE(
    "a sender that keeps finding the inbox full holds no ticket, so the slot the consumer frees "
    "goes to another sender") {
  temp_bus bus;
  auto in = inbox::open_or_create(bus.dir(), "sink", create_options{4, 1, 256, 0600});
  REQUIRE(in);
  auto flood = inbox::open(bus.dir(), "sink");
  auto polite = inbox::open(bus.dir(), "sink");
  REQUIRE(flood);
  REQUIRE(polite);
  for (int i = 0; i < 4; ++i) REQUIRE(flood->try_push(msg("f")) == push_result::ok);
  REQUIRE(flood->try_push(msg("f")) == push_result::full);
  auto c = in->attach_consumer();
  REQUIRE(c);

  descheduled_flooder scene;
  scene.c = &c.value();
  scene.polite = &polite.value();
  stalled = &scene;
  test_hooks::after_ticket = stall_flooder_here;
  CHECK(flood->try_push(msg("f")) == push_result::full);  // still full: the consumer has not run
  test_hooks::after_ticket = nullptr;
  stalled = nullptr;
  if (!scene.ran) scene.run();  // no ticket was held: the same events, after the refusal
  CHECK(scene.polite_got == push_result::ok);
  CHECK(in->size() == 4);
}
