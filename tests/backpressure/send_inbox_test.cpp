// send_with_backpressure against real inboxes (and, for the doorbell, a real second process).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "backpressure/circuit_breaker.hpp"
#include "backpressure/send.hpp"
#include "fakes.hpp"
#include "inbox/inbox.hpp"
#include "support/await.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
namespace bp = sluice::backpressure;
namespace ib = sluice::inbox;
using bp::send_status;
using sluice::test::eventually;
using sluice::test::shared;
using sluice::test::temp_bus;

namespace {

ib::inbox make_inbox(const temp_bus& bus, std::uint32_t capacity) {
  ib::create_options opts;
  opts.capacity = capacity;
  opts.critical_reserve = 4;
  opts.slot_size = 512;
  auto r = ib::inbox::open_or_create(bus.dir(), "sink", opts);
  if (!r) FAIL(r.err().message);
  return std::move(r).value();
}

void fill(ib::inbox& dest) {
  for (;;) {
    const auto r = dest.try_push({"filler", "fill", "x", ib::priority::normal});
    if (r == ib::push_result::full) return;
    REQUIRE(r == ib::push_result::ok);
  }
}

bp::send_policy quick_policy() {
  bp::send_policy p;
  p.backoff = {1ms, 4ms};
  p.max_retries = 3;
  p.deadline = 50ms;
  return p;
}

struct wake_report {
  std::atomic<int> done;
  int status;
  int last_wake;
  std::uint32_t waits;
};

}  // namespace

TEST_CASE("a send to an inbox with room is sent on the first try") {
  temp_bus bus;
  auto dest = make_inbox(bus, 8);
  const auto out = bp::send_with_backpressure(dest, {"alice", "task", "hello"}, quick_policy());
  CHECK(out.status == send_status::sent);
  CHECK(out.attempts == 1);
  CHECK(out.waits == 0);
  CHECK(dest.size() == 1);
}

TEST_CASE("a sender blocked on a full inbox is woken by the doorbell when the consumer commits") {
  temp_bus bus;
  auto dest = make_inbox(bus, 8);
  fill(dest);
  shared<wake_report> report;
  sluice::test::child_group child;
  child.spawn([&] {
    auto mine = ib::inbox::open(bus.dir(), "sink");
    if (!mine) return 2;
    // The timer is far longer than the test: only the doorbell can end this wait early.
    bp::send_policy p;
    p.backoff = {30s, 30s};
    p.max_retries = 1;
    p.deadline = 60s;
    bp::testing::fixed_random ceiling(1.0);
    const auto out = bp::send_with_backpressure(*mine, {"alice", "task", "after the wait"}, p,
                                                bp::null_observer(), bp::monotonic_time(), ceiling);
    report->status = static_cast<int>(out.status);
    report->last_wake = out.last_wake ? static_cast<int>(*out.last_wake) : -1;
    report->waits = out.waits;
    report->done.store(1);
    return 0;
  });
  REQUIRE(sluice::test::eventually([&] { return dest.snapshot().backpressure_waits >= 1; }));
  auto consumer = dest.attach_consumer();
  REQUIRE(consumer);
  REQUIRE(consumer->pop_batch(1).size() == 1);
  consumer->commit();
  REQUIRE(child.wait_all() == std::vector<int>{0});
  CHECK(report->done.load() == 1);
  CHECK(static_cast<send_status>(report->status) == send_status::sent);
  CHECK(report->last_wake == static_cast<int>(ib::wake_reason::rang));
  CHECK(report->waits == 1);
}

TEST_CASE("a critical message is delivered while regular slots are full and the breaker is open") {
  temp_bus bus;
  auto dest = make_inbox(bus, 8);
  fill(dest);
  const auto policy = quick_policy();
  for (std::uint32_t i = 0; i < policy.breaker.failure_threshold; ++i) {
    REQUIRE(bp::send_with_backpressure(dest, {"alice", "task", "x"}, policy).status ==
            send_status::timed_out);
  }
  REQUIRE(bp::inspect(dest.breaker()).state == bp::breaker_state::open);

  const auto out = bp::send_with_backpressure(
      dest, {"alice", "alarm", "disk on fire", ib::priority::critical}, policy);
  CHECK(out.status == send_status::sent);
  CHECK(out.attempts == 1);
  CHECK(out.waits == 0);
  CHECK(bp::send_with_backpressure(dest, {"alice", "task", "x"}, policy).status ==
        send_status::circuit_open);

  auto consumer = dest.attach_consumer();
  REQUIRE(consumer);
  const auto batch = consumer->pop_batch(1);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].prio == ib::priority::critical);
  CHECK(batch[0].payload == "disk on fire");
}

TEST_CASE("exhausted sends and their waits are counted in the inbox header") {
  temp_bus bus;
  auto dest = make_inbox(bus, 4);
  fill(dest);
  const auto out = bp::send_with_backpressure(dest, {"alice", "task", "x"}, quick_policy());
  CHECK(out.status == send_status::timed_out);
  const auto s = dest.snapshot();
  CHECK(s.send_failures == 1);
  CHECK(s.backpressure_waits == out.waits);
  CHECK(out.waits >= 1);
}

TEST_CASE("a message larger than a slot is rejected at once and never trips the breaker") {
  temp_bus bus;
  auto dest = make_inbox(bus, 4);
  const std::string huge(4096, 'x');
  for (int i = 0; i < 10; ++i) {
    const auto out = bp::send_with_backpressure(dest, {"alice", "task", huge}, quick_policy());
    CHECK(out.status == send_status::rejected);
    CHECK(out.last_push == ib::push_result::too_large);
    CHECK(out.waits == 0);
  }
  CHECK(bp::inspect(dest.breaker()).state == bp::breaker_state::closed);
  CHECK(dest.snapshot().send_failures == 0);
}

TEST_CASE("no-wait mode answers full at once on a full inbox") {
  temp_bus bus;
  auto dest = make_inbox(bus, 4);
  fill(dest);
  auto policy = quick_policy();
  policy.wait = false;
  const auto out = bp::send_with_backpressure(dest, {"alice", "task", "x"}, policy);
  CHECK(out.status == send_status::full);
  CHECK(out.attempts == 1);
  CHECK(out.waits == 0);
  CHECK(dest.snapshot().backpressure_waits == 0);
}
