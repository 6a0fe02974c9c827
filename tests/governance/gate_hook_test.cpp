// The send loop's admission-gate hook (backpressure/admission_gate.hpp), driven with a
// scripted gate, a fake inbox and a fake clock: deny, wait within and beyond the deadline,
// demote, pacing delay.
#include <catch2/catch.hpp>
#include <chrono>
#include <deque>

#include "backpressure/fakes.hpp"
#include "backpressure/send_loop.hpp"

using namespace std::chrono_literals;
using namespace sluice::backpressure;
using sluice::inbox::message_view;
using sluice::inbox::priority;
using sluice::inbox::push_result;

namespace {

class scripted_gate final : public admission_gate {
 public:
  admission_verdict admit(const admission_request& q, std::int64_t now_ns) noexcept override {
    asked.push_back(now_ns);
    last = q;
    if (script.empty()) return {};
    auto v = script.front();
    script.pop_front();
    return v;
  }
  std::deque<admission_verdict> script;
  std::vector<std::int64_t> asked;
  admission_request last;
};

const message_view msg{"alice", "task", "{}", priority::high};

send_policy gated(scripted_gate& g) {
  send_policy p;
  p.deadline = 1s;
  p.gate = &g;
  return p;
}

}  // namespace

TEST_CASE("a deny verdict refuses the send without trying the inbox") {
  testing::fake_time time;
  testing::fixed_random rng(1.0);
  testing::fake_target target(time);
  scripted_gate gate;
  gate.script.push_back({admit_kind::deny});
  const auto out = basic_send(target, msg, gated(gate), null_observer(), time, rng);
  CHECK(out.status == send_status::denied);
  CHECK(out.attempts == 0);
  CHECK(gate.last.from == "alice");
  CHECK(gate.last.type == "task");
}

TEST_CASE(
    "a wait verdict sleeps what it says and asks again, and past the deadline it is rate_limited") {
  testing::fake_time time;
  testing::fixed_random rng(1.0);
  testing::fake_target target(time);
  target.otherwise = push_result::ok;
  scripted_gate gate;
  gate.script.push_back({admit_kind::wait, 200'000'000});
  auto out = basic_send(target, msg, gated(gate), null_observer(), time, rng);
  CHECK(out.status == send_status::sent);
  REQUIRE(time.sleeps.size() == 1);
  CHECK(time.sleeps[0] == 200ms);
  CHECK(gate.asked.size() == 2);
  gate.script.push_back({admit_kind::wait, 5'000'000'000});
  out = basic_send(target, msg, gated(gate), null_observer(), time, rng);
  CHECK(out.status == send_status::rate_limited);
  CHECK(out.retry_after == 5s);
  CHECK(out.attempts == 0);
}

TEST_CASE("a demote verdict pushes into the lower lane, after its pacing delay") {
  testing::fake_time time;
  testing::fixed_random rng(1.0);
  testing::fake_target target(time);
  target.otherwise = push_result::ok;
  scripted_gate gate;
  admission_verdict v{admit_kind::demote};
  v.demote_to = priority::low;
  v.delay_ns = 30'000'000;
  gate.script.push_back(v);
  const auto out = basic_send(target, msg, gated(gate), null_observer(), time, rng);
  CHECK(out.status == send_status::sent);
  REQUIRE(target.pushed_prio.size() == 1);
  CHECK(target.pushed_prio[0] == priority::low);
  REQUIRE(time.sleeps.size() == 1);
  CHECK(time.sleeps[0] == 30ms);
}
