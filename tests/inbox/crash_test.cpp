// kill -9: producers killed at any point never wedge the consumer; a consumer killed before
// commit leaves its batch to the next one. Uses the test hook between claim and publish.
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "inbox/doctor/doctor.hpp"
#include "inbox/inbox.hpp"
#include "inbox/test_hooks.hpp"
#include "messages.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;
using namespace std::chrono_literals;
using namespace sluice::inbox::testing;
using namespace sluice::test;

namespace {

constexpr auto grace = 50ms;

void die_now() {
  ::raise(SIGKILL);
}

// How many more claims before the hook kills this process (set in the child only).
long claims_left = 0;
void die_after_some_claims() {
  if (--claims_left <= 0) ::raise(SIGKILL);
}

void sleep_past_grace() {
  ::usleep(static_cast<useconds_t>(std::chrono::microseconds(grace * 4).count()));
}

inbox make(const temp_bus& bus, std::uint32_t capacity = 1000) {
  auto r = inbox::open_or_create(bus.dir(), "sink", create_options{capacity, 64, 256, 0600});
  REQUIRE(r);
  return std::move(r).value();
}

consumer attach(inbox& in) {
  auto c = in.attach_consumer(consumer_options{grace});
  REQUIRE(c);
  return std::move(c).value();
}

// A producer process SIGKILLed inside its push where `hook` runs: test_hooks::after_admission
// leaves an admission that no position explains, test_hooks::after_claim a slot claimed and
// never published.
void kill_a_producer_at(inbox& in, void (*&hook)()) {
  const pid_t victim = spawn([&] {
    hook = die_now;
    (void)in.try_push(message_view{"victim", "t", "never published", priority::normal});
    return 0;
  });
  REQUIRE(reap(victim) == 128 + SIGKILL);
}

// Pops until `want` messages arrived or the inbox stays silent for 10 s.
std::vector<message> drain(inbox& in, consumer& c, std::size_t want) {
  std::vector<message> got;
  while (got.size() < want) {
    auto batch = c.pop_batch(64);
    for (const auto& m : batch)
      got.push_back(message{m.id, m.sequence, m.sent_ns, m.prio, std::string(m.from),
                            std::string(m.type), std::string(m.payload)});
    c.commit();
    if (batch.empty() && in.wait_not_empty(10s) == wake_reason::timed_out) break;
  }
  return got;
}

// Messages 0, 1, ... n - 1 from one producer.
void push_numbered(inbox& in, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    const tagged t{0, 0, i};
    REQUIRE(in.try_push(message_view{"p", "t", as_payload(t), priority::normal}) ==
            push_result::ok);
  }
}

}  // namespace

TEST_CASE(
    "a producer killed between claim and publish is skipped after the grace period and counted") {
  temp_bus bus;
  auto in = make(bus);
  auto c = attach(in);
  kill_a_producer_at(in, test_hooks::after_claim);
  REQUIRE(in.try_push(message_view{"alive", "t", "after", priority::normal}) == push_result::ok);
  auto got = drain(in, c, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "after");
  CHECK(in.snapshot().abandoned == 1);
  CHECK(in.size() == 0);
}

TEST_CASE(
    "a running consumer gives up a dead producer's whole claimed run at once instead of one slot "
    "per grace period") {
  temp_bus bus;
  auto in = make(bus);
  auto c = attach(in);
  // One batch push claims all its positions at once; killed after stamping the first slot, the
  // producer leaves the other four claimed and never stamped. (A bridge receiver pushes runs of
  // hundreds like this: given up one grace period each, they held its inbox for a minute.)
  const pid_t victim = spawn([&] {
    test_hooks::after_claim = die_now;
    message_view run[5];
    for (auto& m : run) m = message_view{"victim", "t", "never published", priority::normal};
    (void)in.try_push_batch(run, 5);
    return 0;
  });
  CHECK(reap(victim) == 128 + SIGKILL);
  REQUIRE(in.try_push(message_view{"alive", "t", "after", priority::normal}) == push_result::ok);
  // Every position of the run was claimed before the consumer first saw the run's first slot,
  // so when that one has waited out the grace period, so have the rest.
  std::vector<std::string> got;
  for (;;) {
    for (const auto& m : c.pop_batch(8)) got.emplace_back(m.payload);
    c.commit();
    if (in.snapshot().abandoned != 0) break;
    REQUIRE(in.wait_not_empty(10s) == wake_reason::rang);
  }
  CHECK(in.snapshot().abandoned == 5);
  CHECK(got == std::vector<std::string>{"after"});
}

TEST_CASE("a live producer slower than the grace period is waited for, not skipped") {
  temp_bus bus;
  auto in = make(bus);
  auto c = attach(in);
  const pid_t slow = spawn([&] {
    test_hooks::after_claim = sleep_past_grace;
    return in.try_push(message_view{"slow", "t", "late but alive", priority::normal}) ==
                   push_result::ok
               ? 0
               : 1;
  });
  auto got = drain(in, c, 1);
  CHECK(reap(slow) == 0);
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "late but alive");
  CHECK(in.snapshot().abandoned == 0);
}

TEST_CASE("a consumer killed before commit leaves its batch to the next consumer") {
  temp_bus bus;
  auto in = make(bus);
  push_numbered(in, 10);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t dying = spawn([&] {
    auto c = in.attach_consumer();
    if (!c) return 1;
    auto batch = c->pop_batch(6);
    const std::uint64_t n = batch.size();
    if (::write(fds[1], &n, sizeof n) != sizeof n) return 2;
    ::raise(SIGKILL);  // handled, never committed
    return 3;
  });
  std::uint64_t seen_by_dead = 0;
  REQUIRE(::read(fds[0], &seen_by_dead, sizeof seen_by_dead) == sizeof seen_by_dead);
  ::close(fds[0]);
  ::close(fds[1]);
  CHECK(reap(dying) == 128 + SIGKILL);
  CHECK(seen_by_dead == 6);
  auto c = attach(in);
  auto got = drain(in, c, 10);
  REQUIRE(got.size() == 10);
  for (std::uint64_t i = 0; i < 10; ++i) {
    tagged t{};
    REQUIRE(parse(got[i].payload, t));
    CHECK(t.seq == i);
  }
}

TEST_CASE(
    "a consumer killed between two pipelined commits leaves the uncommitted rest to the next "
    "consumer") {
  temp_bus bus;
  auto in = make(bus);
  push_numbered(in, 10);
  const pid_t dying = spawn([&] {
    auto c = in.attach_consumer();
    if (!c) return 1;
    received_message buf[4];
    std::uint64_t first = 0;
    std::uint64_t second = 0;
    if (c->pop_next(buf, 3, first) != 3 || c->pop_next(buf, 4, second) != 4) return 2;
    if (!c->commit_through(first)) return 3;
    ::raise(SIGKILL);  // the second batch was read, never committed
    return 4;
  });
  CHECK(reap(dying) == 128 + SIGKILL);
  const stats s = in.snapshot();
  CHECK(s.dequeued == 3);
  CHECK(s.size == 7);
  auto c = attach(in);
  auto got = drain(in, c, 7);
  REQUIRE(got.size() == 7);
  for (std::uint64_t i = 0; i < 7; ++i) {
    tagged t{};
    REQUIRE(parse(got[i].payload, t));
    CHECK(t.seq == i + 3);
  }
}

TEST_CASE(
    "a dead producer's slot is counted abandoned by the pipelined commit of the batch that passed "
    "it") {
  temp_bus bus;
  auto in = make(bus);
  auto c = attach(in);
  REQUIRE(in.try_push(message_view{"alive", "t", "before", priority::normal}) == push_result::ok);
  kill_a_producer_at(in, test_hooks::after_claim);
  REQUIRE(in.try_push(message_view{"alive", "t", "after", priority::normal}) == push_result::ok);
  received_message buf[4];
  std::uint64_t first = 0;
  REQUIRE(c.pop_next(buf, 4, first) == 1);  // stops at the dead producer's claimed slot
  CHECK(buf[0].payload == "before");
  std::uint64_t second = 0;
  std::size_t n = 0;
  while ((n = c.pop_next(buf, 4, second)) == 0)
    REQUIRE(in.wait_not_empty(10s) != wake_reason::timed_out);  // skipped after the grace period
  REQUIRE(n == 1);
  CHECK(buf[0].payload == "after");
  REQUIRE(c.commit_through(first));
  CHECK(in.snapshot().abandoned == 0);
  CHECK(in.snapshot().dequeued == 1);
  REQUIRE(c.commit_through(second));
  CHECK(in.snapshot().abandoned == 1);
  CHECK(in.snapshot().dequeued == 2);
  CHECK(in.size() == 0);
}

TEST_CASE(
    "producers killed at random points 50 times never wedge the consumer and every published "
    "message arrives") {
  temp_bus bus;
  auto in = make(bus, 256);
  constexpr std::uint32_t steady = 2;
  constexpr std::uint32_t victims = 50;
  constexpr std::uint64_t steady_count = sanitized ? 5'000 : 40'000;
  // Producers 0..1 keep sending a known stream; 2..51 are victims killed part-way, half of
  // them by the hook exactly between claim and publish, half by SIGKILL from outside at a
  // random moment.
  auto produce = [&](std::uint32_t id, std::uint64_t count) {
    auto out = inbox::open(bus.dir(), "sink");
    if (!out) return 10;
    for (std::uint64_t seq = 0; seq < count;) {
      const tagged t{id, 0, seq};
      if (out->try_push(message_view{"p", "t", as_payload(t), priority::normal}) ==
          push_result::ok) {
        ++seq;
      } else {
        (void)out->wait_not_full(100ms);
      }
    }
    return 0;
  };
  std::vector<pid_t> steady_pids;
  for (std::uint32_t id = 0; id < steady; ++id)
    steady_pids.push_back(spawn([&, id] { return produce(id, steady_count); }));
  const pid_t killer = spawn([&] {
    std::mt19937 rng(12345);
    for (std::uint32_t v = 0; v < victims; ++v) {
      const std::uint32_t id = steady + v;
      const bool by_hook = v % 2 == 0;
      const long after = std::uniform_int_distribution<long>(1, 2000)(rng);
      const pid_t victim = spawn([&] {
        if (by_hook) {
          claims_left = after;
          test_hooks::after_claim = die_after_some_claims;
        }
        return produce(id, ~0ull);
      });
      if (!by_hook) {
        ::usleep(static_cast<useconds_t>(std::uniform_int_distribution<int>(50, 3000)(rng)));
        ::kill(victim, SIGKILL);
      }
      if (reap(victim) != 128 + SIGKILL) return 1;
    }
    return 0;
  });

  auto c = attach(in);
  std::map<std::uint32_t, std::uint64_t> next;  // producer -> next expected seq
  std::uint64_t gaps = 0;
  std::uint64_t duplicates = 0;
  auto longest_silence = std::chrono::steady_clock::duration::zero();
  auto last_progress = std::chrono::steady_clock::now();
  bool killer_done = false;
  int killer_status = -1;
  std::vector<received_message> buf(128);
  for (;;) {
    const std::size_t n = c.pop_batch(buf.data(), buf.size());
    const auto now = std::chrono::steady_clock::now();
    if (n > 0) {
      longest_silence = std::max(longest_silence, now - last_progress);
      last_progress = now;
    }
    for (std::size_t i = 0; i < n; ++i) {
      tagged t{};
      REQUIRE(parse(buf[i].payload, t));
      auto& expect = next[t.producer];
      if (t.seq < expect) ++duplicates;
      if (t.seq > expect) ++gaps;
      expect = t.seq + 1;
    }
    c.commit();
    if (!killer_done) {
      int status = 0;
      if (::waitpid(killer, &status, WNOHANG) == killer) {
        killer_done = true;
        killer_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
    }
    if (killer_done && next[0] == steady_count && next[1] == steady_count && in.size() == 0) break;
    if (n == 0 && in.wait_not_empty(100ms) == wake_reason::timed_out && now - last_progress > 30s)
      break;
  }
  for (const pid_t p : steady_pids) CHECK(reap(p) == 0);
  CHECK(killer_status == 0);
  CHECK(next[0] == steady_count);
  CHECK(next[1] == steady_count);
  // Victims send 0, 1, 2, ... one at a time: what arrived must be a gap-free prefix.
  CHECK(gaps == 0);
  CHECK(duplicates == 0);
  // Every hook victim died holding a claimed slot; each was skipped, not waited on forever.
  CHECK(in.snapshot().abandoned >= victims / 2);
  // Liveness, not speed: a wedged consumer would sit here for good; allow for a loaded machine.
  INFO("longest time without a delivery: "
       << std::chrono::duration_cast<std::chrono::milliseconds>(longest_silence).count() << " ms");
  CHECK(longest_silence < 5s);
}

TEST_CASE(
    "a consumer killed inside commit leaves counters that add up and no slot counted corrupt") {
  temp_bus bus;
  auto in = make(bus, 8);  // ring of 8: the refill below reuses every slot of the dead commit
  for (int i = 0; i < 5; ++i)
    REQUIRE(in.try_push(message_view{"p", "t", std::to_string(i), priority::normal}) ==
            push_result::ok);
  const pid_t victim = spawn([&] {
    auto c = in.attach_consumer(consumer_options{grace});
    if (!c) return 1;
    if (c->pop_batch(3).size() != 3) return 2;
    test_hooks::inside_commit = die_now;  // after the ledger store, before the slots are freed
    c->commit();
    return 3;
  });
  REQUIRE(reap(victim) == 128 + SIGKILL);
  stats s = in.snapshot();
  CHECK(s.dequeued == 3);  // the ledger store committed the batch, counters included
  CHECK(s.size == 2);
  CHECK(s.enqueued == s.dequeued + s.size);
  auto before = diagnose(bus.dir(), "sink");
  REQUIRE(before);
  CHECK(before->unfreed_committed == 3);
  CHECK(before->counter_drift == 0);
  auto c = attach(in);  // frees the three committed slots the dead consumer left
  auto after = diagnose(bus.dir(), "sink");
  REQUIRE(after);
  CHECK(after->unfreed_committed == 0);
  CHECK(after->leaked_admissions == 0);
  auto rest = drain(in, c, 2);
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].payload == "3");
  CHECK(rest[1].payload == "4");
  // The whole capacity is back, and the slots of the dead commit take new messages.
  for (int i = 0; i < 8; ++i)
    REQUIRE(in.try_push(message_view{"p", "t", "again", priority::normal}) == push_result::ok);
  CHECK(in.try_push(message_view{"p", "t", "one too many", priority::normal}) == push_result::full);
  CHECK(drain(in, c, 8).size() == 8);
  s = in.snapshot();
  CHECK(s.corrupt == 0);
  CHECK(s.abandoned == 0);
  CHECK(s.dequeued == 13);
  CHECK(s.enqueued == s.dequeued + s.size);
}

TEST_CASE(
    "a producer killed between admission and position claim gives its slot of capacity back") {
  temp_bus bus;
  auto in = make(bus, 4);
  kill_a_producer_at(in, test_hooks::after_admission);
  // Its admission is held by nobody: without a consumer only three of four slots take messages.
  for (int i = 0; i < 3; ++i)
    REQUIRE(in.try_push(message_view{"p", "t", std::to_string(i), priority::normal}) ==
            push_result::ok);
  CHECK(in.try_push(message_view{"p", "t", "leaked", priority::normal}) == push_result::full);
  // A consumer attaching counts the admission no position explains and gives it back.
  auto c = attach(in);
  REQUIRE(in.try_push(message_view{"p", "t", "3", priority::normal}) == push_result::ok);
  CHECK(in.try_push(message_view{"p", "t", "over", priority::normal}) == push_result::full);
  const auto got = drain(in, c, 4);
  REQUIRE(got.size() == 4);
  CHECK(got[3].payload == "3");
  const stats s = in.snapshot();
  CHECK(s.enqueued == s.dequeued);
  CHECK(s.abandoned == 0);
}

TEST_CASE("a consumer waiting on an empty inbox gives back a dead producer's admission on time") {
  temp_bus bus;
  auto in = make(bus, 4);
  auto c = attach(in);
  kill_a_producer_at(in, test_hooks::after_admission);
  const auto leaked = [&] {
    auto d = diagnose(bus.dir(), "sink");
    REQUIRE(d);
    return d->leaked_admissions;
  };
  REQUIRE(leaked() == 1);
  // The consumer only waits, as an idle agent does, with a long timeout: no pop, no commit.
  std::thread waiter([&] { (void)in.wait_not_empty(60s); });
  const auto deadline = std::chrono::steady_clock::now() + 100 * grace;  // the wait is 60 s
  // Nothing rings when it does (the inbox is not full): look until then.
  while (leaked() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  const auto left = leaked();
  // Wake the waiter: a message through another mapping, as another process sends.
  auto tx = inbox::open(bus.dir(), "sink");
  REQUIRE(tx);
  REQUIRE(tx->try_push(message_view{"p", "t", "wake", priority::normal}) == push_result::ok);
  waiter.join();
  CHECK(left == 0);
  CHECK(drain(in, c, 1).size() == 1);
}

TEST_CASE("drop_oldest counts a dead producer's head slot once, as abandoned, and drops nothing") {
  temp_bus bus;
  auto in = make(bus, 2);
  kill_a_producer_at(in, test_hooks::after_claim);
  REQUIRE(in.try_push(message_view{"p", "t", "a", priority::normal}) == push_result::ok);
  {
    // A consumer marks the dead slot abandoned after the grace period, then leaves without
    // committing: the marked slot stays the head of the lane.
    auto c = attach(in);
    std::vector<received_message> batch;
    while (batch.empty() && in.wait_not_empty(10s) == wake_reason::rang) batch = c.pop_batch(4);
    REQUIRE(batch.size() == 1);
    CHECK(batch[0].payload == "a");
  }
  CHECK(in.try_push(message_view{"p", "t", "b", priority::normal}, nullptr,
                    overflow_policy::drop_oldest) == push_result::ok);
  stats s = in.snapshot();
  CHECK(s.abandoned == 1);
  CHECK(s.dropped == 0);
  auto c = attach(in);
  const auto got = drain(in, c, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].payload == "a");
  CHECK(got[1].payload == "b");
  s = in.snapshot();
  CHECK(s.abandoned == 1);
  CHECK(s.dropped == 0);
  CHECK(s.enqueued == s.dequeued + s.size + s.dropped);
}

TEST_CASE("a running consumer gives back the admission of a producer killed before its claim") {
  temp_bus bus;
  auto in = make(bus, 4);
  auto c = attach(in);
  kill_a_producer_at(in, test_hooks::after_admission);
  for (int i = 0; i < 3; ++i)
    REQUIRE(in.try_push(message_view{"p", "t", std::to_string(i), priority::normal}) ==
            push_result::ok);
  CHECK(in.full());
  // The consumer keeps polling without committing: within a grace period of looks (one per
  // eighth of a grace period, among polls that return less than asked) it counts the
  // admission no position explains.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (in.full() && std::chrono::steady_clock::now() < deadline) (void)c.pop_batch(8);
  REQUIRE_FALSE(in.full());
  REQUIRE(in.try_push(message_view{"p", "t", "3", priority::normal}) == push_result::ok);
  CHECK(in.try_push(message_view{"p", "t", "over", priority::normal}) == push_result::full);
  CHECK(drain(in, c, 4).size() == 4);
}
