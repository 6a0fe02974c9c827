// The circuit breaker shared by real sender processes: 8 forked senders against one inbox.
//
// Phases, driven by the parent through shared memory:
//   1. the inbox is full and has no consumer: every sender tries once, the sends exhaust
//      their deadline, the breaker trips exactly once;
//   2. while the cooldown runs, sends fail fast: circuit_open, no attempt, no wait;
//   3. after the cooldown all senders race: exactly one becomes the probe; it fails (still
//      no consumer) and the breaker reopens;
//   4. a consumer drains: after the next cooldown a probe succeeds, the breaker closes and
//      every sender delivers the rest of its messages; per-sender sequence numbers prove
//      nothing was lost, duplicated or reordered.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "backpressure/circuit_breaker.hpp"
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

constexpr int senders = 8;
constexpr std::uint32_t messages_per_sender = 40;
constexpr std::uint32_t capacity = 16;
// Fail-fast sends are only checked while the cooldown has this much left, so that a sender
// descheduled mid-check cannot turn into an extra probe.
constexpr auto fast_fail_margin = 500ms;

struct sender_report {
  std::atomic<int> phase_done;
  std::atomic<std::uint32_t> sent;  // sequence numbers 0..sent-1 are in the inbox
  int phase1_status;
  std::uint32_t fast_fail_checked;
  std::uint32_t fast_fail_violations;
  int phase3_status;
  int phase3_probe;
};

struct control {
  std::atomic<int> phase;
  sender_report report[senders];
};

bp::send_policy policy() {
  bp::send_policy p;
  p.backoff = {1ms, 8ms};
  p.max_retries = 1000;
  p.deadline = 100ms;
  p.breaker.failure_threshold = 5;
  p.breaker.cooldown = 1500ms;
  p.breaker.max_cooldown = 2000ms;
  return p;
}

std::int64_t now_ns() {
  return bp::monotonic_time().now_ns();
}

int run_sender(const temp_bus& bus, control& ctl, int me) {
  auto opened = ib::inbox::open(bus.dir(), "sink");
  if (!opened) return 2;
  ib::inbox& dest = *opened;
  sender_report& rep = ctl.report[me];
  const std::string name = "sender" + std::to_string(me);
  const auto p = policy();
  std::uint32_t seq = 0;
  auto send_one = [&] {
    const std::string payload = std::to_string(me) + " " + std::to_string(seq);
    const auto out = bp::send_with_backpressure(dest, {name, "seq", payload}, p);
    if (out.status == send_status::sent) rep.sent.store(++seq);
    return out;
  };
  auto await_phase = [&](int phase) {
    return sluice::test::eventually([&] { return ctl.phase.load() >= phase; }, 60s);
  };

  if (!await_phase(1)) return 3;
  rep.phase1_status = static_cast<int>(send_one().status);
  rep.phase_done.store(1);

  if (!await_phase(2)) return 3;
  for (int i = 0; i < 50; ++i) {
    const std::int64_t until = bp::inspect(dest.breaker()).until_ns;
    if (now_ns() + std::chrono::nanoseconds(fast_fail_margin).count() >= until) break;
    const auto out = send_one();
    ++rep.fast_fail_checked;
    if (out.status != send_status::circuit_open || out.attempts != 0 || out.waits != 0) {
      ++rep.fast_fail_violations;
    }
  }
  rep.phase_done.store(2);

  if (!await_phase(3)) return 3;
  const auto race = send_one();
  rep.phase3_status = static_cast<int>(race.status);
  rep.phase3_probe = race.probe ? 1 : 0;
  rep.phase_done.store(3);

  if (!await_phase(4)) return 3;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (seq < messages_per_sender) {
    if (std::chrono::steady_clock::now() > give_up) return 4;
    const auto out = send_one();
    // An open breaker says when asking again makes sense; honouring it is the contract.
    if (out.status == send_status::circuit_open) std::this_thread::sleep_for(out.retry_after);
  }
  rep.phase_done.store(4);
  return 0;
}

bool all_done(control& ctl, int phase) {
  for (auto& r : ctl.report) {
    if (r.phase_done.load() < phase) return false;
  }
  return true;
}

}  // namespace

TEST_CASE(
    "eight sender processes share one breaker: it trips once, fails fast, admits one probe, "
    "and closes without losing a message once a consumer drains") {
  temp_bus bus;
  ib::create_options opts;
  opts.capacity = capacity;
  opts.critical_reserve = 4;
  opts.slot_size = 256;
  auto created = ib::inbox::open_or_create(bus.dir(), "sink", opts);
  REQUIRE(created);
  ib::inbox& dest = *created;
  std::uint32_t fillers = 0;
  while (dest.try_push({"filler", "fill", "x"}) == ib::push_result::ok) ++fillers;
  REQUIRE(fillers == capacity);

  shared<control> ctl;
  sluice::test::child_group children;
  for (int i = 0; i < senders; ++i) children.spawn([&, i] { return run_sender(bus, *ctl, i); });

  // Phase 1: full inbox, no consumer.
  ctl->phase.store(1);
  REQUIRE(sluice::test::eventually([&] { return all_done(*ctl, 1); }));
  auto v = bp::inspect(dest.breaker(), policy().breaker);
  CHECK(v.state == bp::breaker_state::open);
  CHECK(v.trips == 1);
  int timed_out = 0;
  for (auto& r : ctl->report) {
    const auto s = static_cast<send_status>(r.phase1_status);
    CHECK((s == send_status::timed_out || s == send_status::circuit_open));
    timed_out += s == send_status::timed_out;
  }
  CHECK(timed_out >= 5);

  // Phase 2: fail fast during the cooldown.
  ctl->phase.store(2);
  REQUIRE(sluice::test::eventually([&] { return all_done(*ctl, 2); }));
  std::uint32_t checked = 0;
  for (auto& r : ctl->report) {
    checked += r.fast_fail_checked;
    CHECK(r.fast_fail_violations == 0);
  }
  CHECK(checked > 0);
  v = bp::inspect(dest.breaker(), policy().breaker);
  CHECK(v.trips == 1);
  CHECK(v.probes == 0);
  CHECK(v.rejected_open >= checked);

  // Phase 3: cooldown over, everybody races for the probe.
  const std::int64_t until = v.until_ns;
  REQUIRE(sluice::test::eventually([&] { return now_ns() >= until; }));
  ctl->phase.store(3);
  REQUIRE(sluice::test::eventually([&] { return all_done(*ctl, 3); }));
  int probes = 0;
  for (auto& r : ctl->report) {
    const auto s = static_cast<send_status>(r.phase3_status);
    if (r.phase3_probe) {
      ++probes;
      CHECK(s == send_status::timed_out);
    } else {
      CHECK(s == send_status::circuit_open);
    }
  }
  CHECK(probes == 1);
  v = bp::inspect(dest.breaker(), policy().breaker);
  CHECK(v.probes == 1);
  CHECK(v.state == bp::breaker_state::open);
  CHECK(v.trips == 2);
  CHECK(v.cooldown_ms == 2000);  // 1500 doubled, capped at 2000

  // Phase 4: a consumer drains; the next probe closes the breaker and traffic resumes.
  auto consumer = dest.attach_consumer();
  REQUIRE(consumer);
  ctl->phase.store(4);
  std::vector<std::uint32_t> next(senders, 0);
  std::uint32_t filler_seen = 0;
  int out_of_order = 0;
  int unparsable = 0;
  const auto give_up = std::chrono::steady_clock::now() + 40s;
  for (;;) {
    const bool finished = all_done(*ctl, 4);
    const auto batch = consumer->pop_batch(64);
    for (const auto& m : batch) {
      if (m.from == "filler") {
        ++filler_seen;
        continue;
      }
      int who = -1;
      unsigned seq = 0;
      if (std::sscanf(std::string(m.payload).c_str(), "%d %u", &who, &seq) != 2 || who < 0 ||
          who >= senders) {
        ++unparsable;
        continue;
      }
      if (seq != next[who]) ++out_of_order;
      next[who] = seq + 1;
    }
    consumer->commit();
    if (finished && batch.empty()) break;
    if (std::chrono::steady_clock::now() > give_up) break;
    if (batch.empty()) (void)dest.wait_not_empty(10ms);
  }
  CHECK(children.wait_all() == std::vector<int>(senders, 0));

  CHECK(filler_seen == capacity);
  CHECK(unparsable == 0);
  CHECK(out_of_order == 0);
  for (int i = 0; i < senders; ++i) {
    INFO("sender " << i);
    CHECK(ctl->report[i].sent.load() == messages_per_sender);
    CHECK(next[i] == messages_per_sender);
  }
  v = bp::inspect(dest.breaker(), policy().breaker);
  CHECK(v.state == bp::breaker_state::closed);
  CHECK(v.trips == 2);
  CHECK(dest.size() == 0);
}
