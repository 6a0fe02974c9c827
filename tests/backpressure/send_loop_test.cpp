#include "backpressure/send_loop.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "fakes.hpp"

using namespace std::chrono_literals;
using sluice::backpressure::admission;
using sluice::backpressure::basic_send;
using sluice::backpressure::breaker_state;
using sluice::backpressure::inspect;
using sluice::backpressure::null_observer;
using sluice::backpressure::send_event;
using sluice::backpressure::send_observer;
using sluice::backpressure::send_outcome;
using sluice::backpressure::send_policy;
using sluice::backpressure::send_status;
using sluice::backpressure::token_bucket_cell;
using sluice::backpressure::testing::fake_target;
using sluice::backpressure::testing::fake_time;
using sluice::backpressure::testing::fixed_random;
using sluice::inbox::message_view;
using sluice::inbox::priority;
using sluice::inbox::push_result;
using sluice::inbox::wake_reason;

namespace {

const message_view msg{"alice", "task", "{}", priority::normal};

struct recording_observer final : send_observer {
  void on_backpressure_wait(const send_event& e, std::uint32_t retry,
                            std::chrono::nanoseconds delay) noexcept override {
    waits.push_back(delay);
    last_retry = retry;
    to = std::string(e.to);
  }
  void on_send_success(const send_event&, const send_outcome&) noexcept override { ++successes; }
  void on_send_failure(const send_event& e, const send_outcome& o) noexcept override {
    ++failures;
    failure_from = std::string(e.from);
    failure_max_size = e.max_size;
    failure_retries = o.waits;
  }
  void on_send_refused(const send_event&, const send_outcome& o) noexcept override {
    refused.push_back(o.status);
  }
  std::vector<std::chrono::nanoseconds> waits;
  std::uint32_t last_retry = 0;
  std::string to;
  int successes = 0;
  int failures = 0;
  std::string failure_from;
  std::uint32_t failure_max_size = 0;
  std::uint32_t failure_retries = 0;
  std::vector<send_status> refused;
};

send_policy small_policy() {
  send_policy p;
  p.backoff = {10ms, 40ms};
  p.max_retries = 5;
  p.deadline = 1s;
  p.breaker.failure_threshold = 2;
  p.breaker.cooldown = 100ms;
  return p;
}

}  // namespace

TEST_CASE("a send to an inbox with room goes through at once without waiting") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  target.otherwise = push_result::ok;
  recording_observer obs;
  const auto out = basic_send(target, msg, send_policy{}, obs, time, rng);
  CHECK(out.status == send_status::sent);
  CHECK(out.attempts == 1);
  CHECK(out.waits == 0);
  CHECK(out.waited == 0ns);
  CHECK_FALSE(out.last_wake.has_value());
  CHECK(out.receipt.sequence == 1);
  CHECK(obs.successes == 1);
  CHECK(rng.maxima.empty());
}

TEST_CASE("a sender on a full inbox waits the jittered backoff, doubling up to the cap") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  target.pushes = {push_result::full, push_result::full, push_result::full, push_result::full};
  target.otherwise = push_result::ok;
  recording_observer obs;
  const auto out = basic_send(target, msg, small_policy(), obs, time, rng);
  CHECK(out.status == send_status::sent);
  CHECK(out.attempts == 5);
  CHECK(out.waits == 4);
  CHECK(target.waits == std::vector<std::chrono::nanoseconds>{10ms, 20ms, 40ms, 40ms});
  CHECK(obs.waits == target.waits);
  CHECK(obs.to == "bob");
  CHECK(out.waited == 110ms);
  CHECK(out.last_wake == wake_reason::timed_out);
  CHECK(target.counted_waits == 4);
  CHECK(target.counted_failures == 0);
}

TEST_CASE("the jitter draws each wait from zero to the current ceiling") {
  fake_time time;
  fixed_random rng(0.25);
  fake_target target(time);
  target.pushes = {push_result::full, push_result::full, push_result::full};
  target.otherwise = push_result::ok;
  const auto out = basic_send(target, msg, small_policy(), null_observer(), time, rng);
  CHECK(out.status == send_status::sent);
  CHECK(rng.maxima == std::vector<std::uint64_t>{10'000'000, 20'000'000, 40'000'000});
  CHECK(target.waits == std::vector<std::chrono::nanoseconds>{2500us, 5ms, 10ms});
}

TEST_CASE("a sender woken by the doorbell retries at once and reports the wake reason") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  target.pushes = {push_result::full};
  target.otherwise = push_result::ok;
  target.rings = {true};
  const auto out = basic_send(target, msg, small_policy(), null_observer(), time, rng);
  CHECK(out.status == send_status::sent);
  CHECK(out.last_wake == wake_reason::rang);
  CHECK(out.waited == 5us);
}

TEST_CASE("a send gives up after max_retries waits with timed_out and reports the failure") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  recording_observer obs;
  const auto out = basic_send(target, msg, small_policy(), obs, time, rng);
  CHECK(out.status == send_status::timed_out);
  CHECK(out.attempts == 6);
  CHECK(out.waits == 5);
  CHECK(out.last_push == push_result::full);
  CHECK(target.counted_failures == 1);
  CHECK(obs.failures == 1);
  CHECK(obs.failure_from == "alice");
  CHECK(obs.failure_max_size == 1000);
  CHECK(obs.failure_retries == 5);
}

TEST_CASE(
    "a send gives up at its deadline even with retries left, and the last wait is cut to fit") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  auto policy = small_policy();
  policy.max_retries = 50;
  policy.deadline = 100ms;
  const auto out = basic_send(target, msg, policy, null_observer(), time, rng);
  CHECK(out.status == send_status::timed_out);
  CHECK(target.waits == std::vector<std::chrono::nanoseconds>{10ms, 20ms, 40ms, 30ms});
  CHECK(out.waited == 100ms);
  CHECK(out.attempts == 5);
}

TEST_CASE("the default deadline is max_retries times the base wait") {
  send_policy p;
  CHECK(p.effective_deadline() == 5s);
  p.backoff.base = 200ms;
  p.max_retries = 10;
  CHECK(p.effective_deadline() == 2s);
  p.deadline = 300ms;
  CHECK(p.effective_deadline() == 300ms);
}

TEST_CASE("no-wait mode fails fast on the first full without touching the breaker") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  auto policy = small_policy();
  policy.wait = false;
  for (int i = 0; i < 5; ++i) {
    const auto out = basic_send(target, msg, policy, null_observer(), time, rng);
    CHECK(out.status == send_status::full);
    CHECK(out.attempts == 1);
    CHECK(target.waits.empty());
  }
  CHECK(inspect(target.cell).state == breaker_state::closed);
  CHECK(target.counted_failures == 0);
}

TEST_CASE("a message the inbox refuses is rejected at once and is not a breaker failure") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  target.otherwise = push_result::too_large;
  recording_observer obs;
  for (int i = 0; i < 5; ++i) {
    const auto out = basic_send(target, msg, small_policy(), obs, time, rng);
    CHECK(out.status == send_status::rejected);
    CHECK(out.last_push == push_result::too_large);
    CHECK(out.attempts == 1);
  }
  CHECK(inspect(target.cell).state == breaker_state::closed);
  CHECK(obs.refused.size() == 5);
}

TEST_CASE("exhausted sends trip the breaker and later sends fail fast without trying the inbox") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  const auto policy = small_policy();
  for (int i = 0; i < 2; ++i) {
    REQUIRE(basic_send(target, msg, policy, null_observer(), time, rng).status ==
            send_status::timed_out);
  }
  REQUIRE(inspect(target.cell).state == breaker_state::open);
  const auto pushes_before = target.pushed_prio.size();
  const auto waits_before = target.waits.size();
  recording_observer obs;
  const auto out = basic_send(target, msg, policy, obs, time, rng);
  CHECK(out.status == send_status::circuit_open);
  CHECK(out.attempts == 0);
  CHECK(out.waited == 0ns);
  CHECK(out.retry_after == 100ms);
  CHECK(target.pushed_prio.size() == pushes_before);
  CHECK(target.waits.size() == waits_before);
  CHECK(obs.refused == std::vector<send_status>{send_status::circuit_open});
  CHECK(inspect(target.cell).rejected_open == 1);
}

TEST_CASE("after the cooldown one send probes, and its success closes the breaker") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  const auto policy = small_policy();
  for (int i = 0; i < 2; ++i) (void)basic_send(target, msg, policy, null_observer(), time, rng);
  time.advance(100ms);
  target.otherwise = push_result::ok;
  const auto probe = basic_send(target, msg, policy, null_observer(), time, rng);
  CHECK(probe.status == send_status::sent);
  CHECK(probe.probe);
  const auto v = inspect(target.cell);
  CHECK(v.state == breaker_state::closed);
  CHECK(v.probes == 1);
  CHECK_FALSE(basic_send(target, msg, policy, null_observer(), time, rng).probe);
}

TEST_CASE("a probe that exhausts its retries reopens the breaker with a doubled cooldown") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  const auto policy = small_policy();
  for (int i = 0; i < 2; ++i) (void)basic_send(target, msg, policy, null_observer(), time, rng);
  time.advance(100ms);
  const auto probe = basic_send(target, msg, policy, null_observer(), time, rng);
  CHECK(probe.status == send_status::timed_out);
  CHECK(probe.probe);
  const auto v = inspect(target.cell, policy.breaker);
  CHECK(v.state == breaker_state::open);
  CHECK(v.cooldown_ms == 200);
  CHECK(v.trips == 2);
}

TEST_CASE("a critical message bypasses an open breaker and is sent from the reserve") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  const auto policy = small_policy();
  for (int i = 0; i < 2; ++i) (void)basic_send(target, msg, policy, null_observer(), time, rng);
  REQUIRE(inspect(target.cell).state == breaker_state::open);
  target.otherwise = push_result::ok;
  const message_view alarm{"alice", "alarm", "{}", priority::critical};
  const auto out = basic_send(target, alarm, policy, null_observer(), time, rng);
  CHECK(out.status == send_status::sent);
  CHECK(out.attempts == 1);
  CHECK(target.pushed_prio.back() == priority::critical);
  CHECK(inspect(target.cell).rejected_open == 0);
}

TEST_CASE("a critical message that still finds no room never trips the breaker") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  const auto policy = small_policy();
  const message_view alarm{"alice", "alarm", "{}", priority::critical};
  for (int i = 0; i < 4; ++i) {
    CHECK(basic_send(target, alarm, policy, null_observer(), time, rng).status ==
          send_status::timed_out);
  }
  CHECK(inspect(target.cell).state == breaker_state::closed);
  CHECK(target.counted_failures == 4);
}

TEST_CASE("a rate-limited sender waits for the refill and then sends") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  target.otherwise = push_result::ok;
  token_bucket_cell bucket{};
  auto policy = small_policy();
  policy.rate_gates[0] = {&bucket, {10.0, 1}};
  CHECK(basic_send(target, msg, policy, null_observer(), time, rng).status == send_status::sent);
  const auto out = basic_send(target, msg, policy, null_observer(), time, rng);
  CHECK(out.status == send_status::sent);
  CHECK(time.sleeps == std::vector<std::chrono::nanoseconds>{100ms});
  CHECK(out.waited == 100ms);
}

TEST_CASE("a rate-limited sender in no-wait mode fails fast with retry_after") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  target.otherwise = push_result::ok;
  token_bucket_cell route{};
  auto policy = small_policy();
  policy.wait = false;
  policy.rate_gates[1] = {&route, {10.0, 1}};
  CHECK(basic_send(target, msg, policy, null_observer(), time, rng).status == send_status::sent);
  const auto out = basic_send(target, msg, policy, null_observer(), time, rng);
  CHECK(out.status == send_status::rate_limited);
  CHECK(out.retry_after == 100ms);
  CHECK(out.attempts == 0);
  CHECK(time.sleeps.empty());
}

TEST_CASE("a rate limit that would outlast the deadline fails instead of sleeping") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  target.otherwise = push_result::ok;
  token_bucket_cell bucket{};
  auto policy = small_policy();
  policy.deadline = 50ms;
  policy.rate_gates[0] = {&bucket, {1.0, 1}};
  CHECK(basic_send(target, msg, policy, null_observer(), time, rng).status == send_status::sent);
  const auto out = basic_send(target, msg, policy, null_observer(), time, rng);
  CHECK(out.status == send_status::rate_limited);
  CHECK(out.retry_after == 1s);
  CHECK(time.sleeps.empty());
}

TEST_CASE("a critical message is not rate limited") {
  fake_time time;
  fixed_random rng(1.0);
  fake_target target(time);
  target.otherwise = push_result::ok;
  token_bucket_cell bucket{};
  auto policy = small_policy();
  policy.wait = false;
  policy.rate_gates[0] = {&bucket, {1.0, 1}};
  const message_view alarm{"alice", "alarm", "{}", priority::critical};
  for (int i = 0; i < 3; ++i) {
    CHECK(basic_send(target, alarm, policy, null_observer(), time, rng).status ==
          send_status::sent);
  }
  CHECK(bucket.allowed.load() == 0);
}
