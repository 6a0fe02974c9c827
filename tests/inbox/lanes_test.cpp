// Priority lanes: the critical reserve, critical-first delivery, weighted round-robin.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "inbox/inbox.hpp"
#include "messages.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;
using testing::msg;

namespace {

inbox make(const sluice::test::temp_bus& bus, std::uint32_t capacity, std::uint32_t reserve = 64) {
  create_options opts;
  opts.capacity = capacity;
  opts.critical_reserve = reserve;
  opts.slot_size = 256;
  auto r = inbox::open_or_create(bus.dir(), "a", opts);
  REQUIRE(r);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("critical messages are accepted from the reserve when regular slots are full") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 2, 4);
  REQUIRE(in.try_push(msg("n1")) == push_result::ok);
  REQUIRE(in.try_push(msg("n2")) == push_result::ok);
  REQUIRE(in.try_push(msg("n3")) == push_result::full);
  for (int i = 0; i < 4; ++i)
    CHECK(in.try_push(msg("c" + std::to_string(i), priority::critical)) == push_result::ok);
  CHECK(in.try_push(msg("c4", priority::critical)) == push_result::full);
  CHECK(in.size() == 6);
  CHECK(in.snapshot().size_by_lane[static_cast<int>(priority::critical)] == 4);
}

TEST_CASE("critical messages are delivered before every other lane") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 16);
  REQUIRE(in.try_push(msg("h", priority::high)) == push_result::ok);
  REQUIRE(in.try_push(msg("l", priority::low)) == push_result::ok);
  REQUIRE(in.try_push(msg("c1", priority::critical)) == push_result::ok);
  REQUIRE(in.try_push(msg("c2", priority::critical)) == push_result::ok);
  auto c = in.attach_consumer();
  REQUIRE(c);
  auto batch = c->pop_batch(10);
  REQUIRE(batch.size() == 4);
  CHECK(batch[0].payload == "c1");
  CHECK(batch[1].payload == "c2");
  CHECK(batch[2].payload == "h");
  CHECK(batch[3].payload == "l");
}

TEST_CASE("busy lanes are served high:normal:low 4:2:1, so low is never starved") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 600);
  for (int i = 0; i < 200; ++i) {
    REQUIRE(in.try_push(msg("h", priority::high)) == push_result::ok);
    REQUIRE(in.try_push(msg("n", priority::normal)) == push_result::ok);
    REQUIRE(in.try_push(msg("l", priority::low)) == push_result::ok);
  }
  auto c = in.attach_consumer();
  REQUIRE(c);
  std::map<priority, int> served;
  // One at a time, so the round-robin position must carry across calls.
  for (int i = 0; i < 56 * 3; ++i) {
    auto batch = c->pop_batch(1);
    REQUIRE(batch.size() == 1);
    ++served[batch[0].prio];
    c->commit();
  }
  CHECK(served[priority::high] == 96);
  CHECK(served[priority::normal] == 48);
  CHECK(served[priority::low] == 24);
}

TEST_CASE("an idle lane does not slow the others down (the round-robin is work-conserving)") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 300);
  for (int i = 0; i < 100; ++i)
    REQUIRE(in.try_push(msg(std::to_string(i), priority::low)) == push_result::ok);
  auto c = in.attach_consumer();
  REQUIRE(c);
  auto batch = c->pop_batch(100);
  REQUIRE(batch.size() == 100);
  for (int i = 0; i < 100; ++i)
    CHECK(batch[static_cast<std::size_t>(i)].payload == std::to_string(i));
}

TEST_CASE("FIFO holds within each lane when lanes are interleaved") {
  sluice::test::temp_bus bus;
  auto in = make(bus, 300);
  for (int i = 0; i < 90; ++i) {
    REQUIRE(in.try_push(msg(std::to_string(i), static_cast<priority>(i % 4))) == push_result::ok);
  }
  auto c = in.attach_consumer();
  REQUIRE(c);
  std::map<priority, int> last;
  auto batch = c->pop_batch(200);
  REQUIRE(batch.size() == 90);
  for (const auto& m : batch) {
    const int v = std::stoi(std::string(m.payload));
    if (last.count(m.prio) != 0) CHECK(v > last[m.prio]);
    last[m.prio] = v;
  }
}
