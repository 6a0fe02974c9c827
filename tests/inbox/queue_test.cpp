// Push and pop within one process: bounds, FIFO, wrap-around, sizes, ids, batches, policies.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <optional>
#include <set>
#include <string>

#include "inbox/inbox.hpp"
#include "inbox/layout.hpp"
#include "messages.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;
using testing::msg;

namespace {

inbox make(const sluice::test::temp_bus& bus, std::uint32_t capacity,
           std::uint32_t slot_size = 4096) {
  create_options opts;
  opts.capacity = capacity;
  opts.slot_size = slot_size;
  auto r = inbox::open_or_create(bus.dir(), "a", opts);
  REQUIRE(r);
  return std::move(r).value();
}

consumer attach(inbox& in) {
  auto c = in.attach_consumer();
  REQUIRE(c);
  return std::move(c).value();
}

}  // namespace

TEST_CASE("an empty inbox pops nothing and reports size 0") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 4);
  auto c = attach(in);
  CHECK(c.pop_batch(10).empty());
  CHECK(in.size() == 0);
  CHECK_FALSE(in.full());
}

TEST_CASE("a full inbox answers full, keeps what it has, and counts the refusal") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 4);
  for (int i = 0; i < 4; ++i) REQUIRE(in.try_push(msg(std::to_string(i))) == push_result::ok);
  CHECK(in.full());
  CHECK(in.try_push(msg("x")) == push_result::full);
  CHECK(in.try_push(msg("y"), nullptr, overflow_policy::reject) == push_result::full);
  const auto s = in.snapshot();
  CHECK(s.size == 4);
  CHECK(s.rejected_full == 2);
  auto c = attach(in);
  auto batch = c.pop_batch(10);
  REQUIRE(batch.size() == 4);
  CHECK(batch[3].payload == "3");
}

TEST_CASE("capacity is shared by the high, normal and low lanes") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 3);
  CHECK(in.try_push(msg("h", priority::high)) == push_result::ok);
  CHECK(in.try_push(msg("n", priority::normal)) == push_result::ok);
  CHECK(in.try_push(msg("l", priority::low)) == push_result::ok);
  CHECK(in.try_push(msg("l2", priority::low)) == push_result::full);
  CHECK(in.try_push(msg("h2", priority::high)) == push_result::full);
}

TEST_CASE("messages keep FIFO order across many wrap-arounds of the ring") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 3);  // ring of 4 slots, admission stops at 3
  auto c = attach(in);
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 500; ++round) {
    while (in.try_push(msg(std::to_string(next_in))) == push_result::ok) ++next_in;
    const std::size_t take = 1 + static_cast<std::size_t>(round % 3);
    auto batch = c.pop_batch(take);
    for (const auto& m : batch) CHECK(m.payload == std::to_string(next_out++));
    c.commit();
  }
  for (;;) {
    auto batch = c.pop_batch(8);
    if (batch.empty()) break;
    for (const auto& m : batch) CHECK(m.payload == std::to_string(next_out++));
    c.commit();
  }
  CHECK(next_out == next_in);
  CHECK(next_in >= 1000);
  CHECK(in.snapshot().dequeued == static_cast<std::uint64_t>(next_in));
}

TEST_CASE("a payload of exactly max_payload fits and one byte more is too_large") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 4, 512);
  const std::uint32_t max = in.snapshot().max_payload;
  CHECK(max == 512 - layout::slot_header_size);
  const std::string fits(max, 'f');
  const std::string too_big(max + 1, 'x');
  CHECK(in.try_push(msg(too_big)) == push_result::too_large);
  CHECK(in.try_push(msg(fits)) == push_result::ok);
  CHECK(in.try_push(msg("x", priority::normal, std::string(65, 's'))) == push_result::too_large);
  CHECK(in.try_push(msg("x", priority::normal, "s", std::string(33, 't'))) ==
        push_result::too_large);
  CHECK(in.size() == 1);
  auto c = attach(in);
  auto batch = c.pop_batch(4);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].payload == fits);
}

TEST_CASE("a received message carries sender, type, priority, timestamp and payload bytes") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 4);
  const std::string binary("a\0b\xff", 4);
  push_receipt receipt;
  REQUIRE(in.try_push(msg(binary, priority::high, "sender-1", "task.done"), &receipt) ==
          push_result::ok);
  auto c = attach(in);
  auto batch = c.pop_batch(1);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].payload == binary);
  CHECK(batch[0].from == "sender-1");
  CHECK(batch[0].type == "task.done");
  CHECK(batch[0].prio == priority::high);
  CHECK(batch[0].id == receipt.id);
  CHECK(batch[0].sequence == receipt.sequence);
  CHECK(batch[0].sent_ns > 1'600'000'000'000'000'000ull);
}

TEST_CASE("message ids are unique and sequences increase within an inbox") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 64);
  auto c = attach(in);
  std::set<std::uint64_t> ids;
  std::uint64_t last_seq = 0;
  for (int i = 0; i < 2000; ++i) {
    push_receipt r;
    REQUIRE(in.try_push(msg("m", i % 2 ? priority::critical : priority::low), &r) ==
            push_result::ok);
    CHECK(ids.insert(r.id).second);
    if (i > 0) CHECK(r.sequence > last_seq);
    last_seq = r.sequence;
    (void)c.pop_batch(1);
    c.commit();
  }
}

TEST_CASE("two re-creations of the same inbox give different ids to their first message") {
  sluice::test::temp_bus bus;
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto in = make(bus, 4);
    push_receipt r;
    REQUIRE(in.try_push(msg("m"), &r) == push_result::ok);
    ids.insert(r.id);
    std::filesystem::remove(in.path());
  }
  CHECK(ids.size() == 3);
}

TEST_CASE("a batch push takes what fits in order and says why it stopped") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 5);
  std::vector<std::string> payloads;
  for (int i = 0; i < 8; ++i) payloads.push_back("b" + std::to_string(i));
  std::vector<message_view> views;
  for (const auto& p : payloads) views.push_back(msg(p));
  push_result why = push_result::ok;
  CHECK(in.try_push_batch(views.data(), views.size(), &why) == 5);
  CHECK(why == push_result::full);
  auto c = attach(in);
  auto batch = c.pop_batch(10);
  REQUIRE(batch.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) CHECK(batch[i].payload == payloads[i]);
  c.commit();
  CHECK(in.try_push_batch(views.data(), 3, &why) == 3);
  CHECK(why == push_result::ok);
}

TEST_CASE("a batch push stops at a message that is too large") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 8, 256);
  const std::string big(1000, 'x');
  message_view views[3] = {msg("ok"), msg(big), msg("never")};
  push_result why = push_result::ok;
  CHECK(in.try_push_batch(views, 3, &why) == 1);
  CHECK(why == push_result::too_large);
  CHECK(in.size() == 1);
}

TEST_CASE("a closed inbox and a moved-from inbox answer closed") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 4);
  inbox moved = std::move(in);
  CHECK(in.try_push(msg("x")) ==
        push_result::closed);  // NOLINT(bugprone-use-after-move): the point of the test
  CHECK(moved.try_push(msg("x")) == push_result::ok);
  moved.close();
  CHECK(moved.closed());
  CHECK(moved.try_push(msg("y")) == push_result::closed);
  auto other = inbox::open(bus.dir(), "a");
  REQUIRE(other);
  CHECK(other->try_push(msg("z")) == push_result::closed);
}

TEST_CASE("peek copies pending messages in delivery order without consuming them") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 8);
  REQUIRE(in.try_push(msg("n1")) == push_result::ok);
  REQUIRE(in.try_push(msg("c1", priority::critical)) == push_result::ok);
  REQUIRE(in.try_push(msg("n2")) == push_result::ok);
  auto seen = in.peek(10);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].payload == "c1");
  CHECK(seen[1].payload == "n1");
  CHECK(seen[2].payload == "n2");
  CHECK(in.peek(1).size() == 1);
  CHECK(in.size() == 3);
}

TEST_CASE("oldest_sent_ns is the send time of the oldest pending message over every lane") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 8);
  CHECK_FALSE(in.oldest_sent_ns());
  // Sent first but delivered last of the four: the weighted round-robin takes critical and
  // high before it, so the oldest is not the one at the front of the delivery order.
  REQUIRE(in.try_push(msg("low", priority::low)) == push_result::ok);
  REQUIRE(in.try_push(msg("normal")) == push_result::ok);
  REQUIRE(in.try_push(msg("high", priority::high)) == push_result::ok);
  REQUIRE(in.try_push(msg("critical", priority::critical)) == push_result::ok);
  auto c = attach(in);
  for (;;) {
    const auto pending = in.peek(10);
    std::optional<std::uint64_t> want;
    for (const auto& m : pending) want = std::min(want.value_or(m.sent_ns), m.sent_ns);
    INFO(pending.size() << " pending");
    CHECK(in.oldest_sent_ns() == want);
    if (pending.empty()) break;
    REQUIRE(c.pop_batch(1).size() == 1);
    c.commit();
  }
}

TEST_CASE("clear drops every pending message and counts them as dequeued") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 200);
  for (int i = 0; i < 150; ++i)
    REQUIRE(in.try_push(msg("x", static_cast<priority>(i % 4))) == push_result::ok);
  auto c = attach(in);
  CHECK(c.clear() == 150);
  CHECK(in.size() == 0);
  CHECK(in.snapshot().dequeued == 150);
  CHECK(in.snapshot().enqueued == 150);
}

TEST_CASE("drop_oldest evicts the oldest regular message and counts it, only without a consumer") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 3);
  REQUIRE(in.try_push(msg("low-old", priority::low)) == push_result::ok);
  REQUIRE(in.try_push(msg("n1")) == push_result::ok);
  REQUIRE(in.try_push(msg("n2")) == push_result::ok);
  CHECK(in.try_push(msg("n3"), nullptr, overflow_policy::drop_oldest) == push_result::ok);
  CHECK(in.snapshot().dropped == 1);
  {
    auto c = attach(in);
    // With a consumer attached, the sender is told full instead of evicting.
    CHECK(in.try_push(msg("n4"), nullptr, overflow_policy::drop_oldest) == push_result::full);
    auto batch = c.pop_batch(10);
    REQUIRE(batch.size() == 3);
    CHECK(batch[0].payload == "n1");
    CHECK(batch[1].payload == "n2");
    CHECK(batch[2].payload == "n3");
  }
  CHECK(in.snapshot().dropped == 1);
}

TEST_CASE("a published slot with lying lengths is skipped and counted as corrupt, never followed") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 4, 512);
  REQUIRE(in.try_push(msg("first")) == push_result::ok);
  REQUIRE(in.try_push(msg("second")) == push_result::ok);
  {
    // The normal ring starts after the header and the critical ring (64 slots of 512 B).
    auto other = inbox::open(bus.dir(), "a");
    REQUIRE(other);
    auto* base =
        reinterpret_cast<std::uint8_t*>(&other->breaker()) - offsetof(layout::header, breaker);
    auto* first = reinterpret_cast<layout::slot_header*>(base + layout::header_size + 64 * 512);
    first->payload_len = 1u << 30;
  }
  auto c = attach(in);
  auto batch = c.pop_batch(4);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].payload == "second");
  c.commit();  // skipped slots are counted with the batch that passes them
  CHECK(in.snapshot().corrupt == 1);
  CHECK(in.snapshot().dequeued == 1);
}
