// Priority lanes from the sender's side: a low-priority sender keeps getting through while
// another process floods the same inbox with high-priority messages.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "backpressure/send.hpp"
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

constexpr std::uint32_t low_messages = 60;

struct flood_control {
  std::atomic<int> go;    // the inbox is full of high: the low sender may start
  std::atomic<int> stop;  // the low sender is done: the flood may end
  std::atomic<std::uint64_t> high_sent;
  std::atomic<std::uint64_t> high_sent_when_low_started;
  std::atomic<std::uint64_t> high_sent_when_low_finished;
  std::atomic<std::uint32_t> low_sent;
  std::atomic<std::uint32_t> low_failed;
  std::atomic<int> low_done;
  std::atomic<std::uint64_t> low_waits;
};

// Lets the parent see that the low sender really met a full inbox.
struct wait_counter final : bp::send_observer {
  explicit wait_counter(std::atomic<std::uint64_t>& n) : waits(n) {}
  void on_backpressure_wait(const bp::send_event&, std::uint32_t,
                            std::chrono::nanoseconds) noexcept override {
    waits.fetch_add(1);
  }
  std::atomic<std::uint64_t>& waits;
};

bp::send_policy patient() {
  bp::send_policy p;
  p.backoff = {1ms, 8ms};
  p.max_retries = 100000;
  p.deadline = 10s;
  return p;
}

}  // namespace

TEST_CASE(
    "under a constant flood of high-priority messages a low-priority sender still gets through") {
  temp_bus bus;
  ib::create_options opts;
  opts.capacity = 16;
  opts.critical_reserve = 4;
  opts.slot_size = 256;
  auto created = ib::inbox::open_or_create(bus.dir(), "sink", opts);
  REQUIRE(created);
  ib::inbox& dest = *created;
  shared<flood_control> ctl;
  sluice::test::child_group children;

  children.spawn([&] {
    auto mine = ib::inbox::open(bus.dir(), "sink");
    if (!mine) return 2;
    std::uint64_t n = 0;
    while (ctl->stop.load() == 0) {
      const std::string payload = "high " + std::to_string(n);
      const auto out =
          bp::send_with_backpressure(*mine, {"flood", "h", payload, ib::priority::high}, patient());
      if (out.status == send_status::sent) ctl->high_sent.store(++n);
    }
    return 0;
  });
  children.spawn([&] {
    auto mine = ib::inbox::open(bus.dir(), "sink");
    if (!mine) return 2;
    if (!sluice::test::eventually([&] { return ctl->go.load() != 0; }, 60s)) return 3;
    ctl->high_sent_when_low_started.store(ctl->high_sent.load());
    wait_counter observer(ctl->low_waits);
    for (std::uint32_t i = 0; i < low_messages; ++i) {
      const std::uint64_t high_before = ctl->high_sent.load();
      const std::string payload = "low " + std::to_string(i);
      const auto out = bp::send_with_backpressure(
          *mine, {"trickle", "l", payload, ib::priority::low}, patient(), observer);
      if (out.status == send_status::sent) {
        ctl->low_sent.fetch_add(1);
      } else {
        ctl->low_failed.fetch_add(1);
      }
      // The flood is constant by construction: no low message goes out until at least one
      // more high message got in (a descheduled flooder on a busy machine is no flood).
      if (!sluice::test::eventually([&] { return ctl->high_sent.load() > high_before; }, 30s))
        return 4;
    }
    ctl->high_sent_when_low_finished.store(ctl->high_sent.load());
    ctl->low_done.store(1);
    return 0;
  });

  // The low sender starts against an inbox full of high and waits before anything drains.
  REQUIRE(sluice::test::eventually([&] { return dest.full(); }));
  ctl->go.store(1);
  REQUIRE(sluice::test::eventually([&] { return ctl->low_waits.load() > 0; }));
  auto consumer = dest.attach_consumer();
  REQUIRE(consumer);

  std::vector<std::uint32_t> lows;
  std::uint64_t highs = 0;
  const auto give_up = std::chrono::steady_clock::now() + 40s;
  bool flood_stopped = false;
  for (;;) {
    if (!flood_stopped && ctl->low_done.load() != 0 && lows.size() == ctl->low_sent.load()) {
      ctl->stop.store(1);
      flood_stopped = true;
    }
    const auto batch = consumer->pop_batch(4);
    for (const auto& m : batch) {
      unsigned n = 0;
      if (m.prio == ib::priority::low &&
          std::sscanf(std::string(m.payload).c_str(), "low %u", &n) == 1) {
        lows.push_back(n);
      } else {
        ++highs;
      }
    }
    consumer->commit();
    if (flood_stopped && batch.empty() && dest.size() == 0) break;
    if (std::chrono::steady_clock::now() > give_up) break;
    if (batch.empty()) (void)dest.wait_not_empty(10ms);
  }
  ctl->stop.store(1);
  CHECK(children.wait_all() == std::vector<int>{0, 0});
  // The flood kept going while the low messages were sent...
  CHECK(ctl->high_sent_when_low_finished.load() - ctl->high_sent_when_low_started.load() >=
        low_messages);
  // ...yet every low send got through, and every low message was delivered, in order,
  // before the flood was told to stop.
  CHECK(ctl->low_failed.load() == 0);
  CHECK(ctl->low_sent.load() == low_messages);
  REQUIRE(lows.size() == low_messages);
  for (std::uint32_t i = 0; i < low_messages; ++i) CHECK(lows[i] == i);
  CHECK(flood_stopped);
  CHECK(highs >= ctl->high_sent.load() - 16);
}
