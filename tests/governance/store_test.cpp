// policy.ctl across processes: limits hold against eight hammering processes, leases of a
// SIGKILLed holder come back, and a policy applied while senders run reaches their next send.
#include "governance/store.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>

#include "governance/acquire.hpp"
#include "governance/clock.hpp"
#include "governance/holder.hpp"
#include "governance/lease.hpp"
#include "governance/policy_file.hpp"
#include "governance/send_gate.hpp"
#include "support/await.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::governance;
using sluice::test::child_group;
using sluice::test::shared;
using sluice::test::temp_dir;

namespace {

policy parse(const std::string& text) {
  auto p = parse_policy(text, "test.toml");
  INFO((p.errors.empty() ? std::string() : p.errors.front()));
  REQUIRE(p.value);
  return *p.value;
}

store applied(const std::filesystem::path& dir, const std::string& text) {
  auto s = store::open_or_create(dir);
  REQUIRE(s);
  REQUIRE(s.value().apply(parse(text), "test.toml"));
  return std::move(s.value());
}

acquire_result acquire_once(store& s, const std::string& key, std::uint64_t cost = 1) {
  auto p = s.current();
  REQUIRE(p);
  REQUIRE(p.value() != nullptr);
  acquire_request q;
  q.key = key;
  q.cost = cost;
  q.agent = "tester";
  q.holder = *holder_word(::getpid());
  return try_acquire(s.raw(), *p.value(), q, monotonic_ns(), realtime_ns());
}

constexpr int max_grants = 1 << 15;
// Each grant happened somewhere between `before` (the clock the limiter was given) and
// `after` (read once the grant returned).
struct grant_log {
  std::atomic<int> count;
  std::int64_t before[max_grants];
  std::int64_t after[max_grants];
  std::uint64_t cost[max_grants];
};

}  // namespace

TEST_CASE("eight processes hammering one limit never get more than it in any window") {
  const auto algo = GENERATE(std::string("fixed_window"), std::string("sliding_window"),
                             std::string("token_bucket"));
  temp_dir dir;
  constexpr std::uint64_t per_window = 40;
  constexpr std::int64_t window = 100'000'000;  // 100 ms
  auto s = applied(dir.path(), "[[limit]]\nname = \"api\"\nalgorithm = \"" + algo +
                                   "\"\nrate = \"40/100ms\"\n" +
                                   (algo == "token_bucket" ? "burst = 40\n" : ""));
  shared<grant_log> log;
  child_group children;
  // Each child hammers for its own span from when it runs (a loaded machine may start them
  // late), so every child overlaps the others for most of it.
  const std::int64_t span = (sluice::test::sanitized ? 1500 : 600) * 1'000'000LL;
  for (int c = 0; c < 8; ++c) {
    children.spawn([&] {
      auto mine = store::open(dir.path());
      if (!mine) return 2;
      auto p = mine.value().current();
      if (!p || p.value() == nullptr) return 3;
      acquire_request q{"api", 1 + static_cast<std::uint64_t>(::getpid() % 2), "child", 0};
      const std::int64_t stop_at = monotonic_ns() + span;
      for (;;) {
        const std::int64_t now = monotonic_ns();
        if (now > stop_at) return 0;
        const auto r = try_acquire(mine.value().raw(), *p.value(), q, now, realtime_ns());
        if (r.status != acquire_status::granted) continue;
        const std::int64_t after = monotonic_ns();
        const int i = log->count.fetch_add(1);
        if (i >= max_grants) return 4;
        log->before[i] = now;
        log->after[i] = after;
        log->cost[i] = 1;  // `rate` counts requests; their cost goes to cost_rate
      }
    });
  }
  for (int code : children.wait_all()) REQUIRE(code == 0);
  const int n = log->count.load();
  REQUIRE(n > 0);
  // Grants that certainly happened inside an interval (both their clock readings in it)
  // must fit the limit there: a window's count for the windows, burst + one window's rate
  // for the bucket in any interval one window long.
  struct grant {
    std::int64_t before, after;
    std::uint64_t cost;
  };
  std::vector<grant> grants;
  for (int i = 0; i < n; ++i) grants.push_back({log->before[i], log->after[i], log->cost[i]});
  if (algo == "token_bucket") {
    for (const auto& from : grants) {
      std::uint64_t sum = 0;
      for (const auto& g : grants)
        if (g.before >= from.before && g.after < from.before + window) sum += g.cost;
      REQUIRE(sum <= 2 * per_window);
    }
  } else {
    std::map<std::int64_t, std::uint64_t> per;
    for (const auto& g : grants)
      if (g.before / window == g.after / window) per[g.before / window] += g.cost;
    for (const auto& [w, used] : per) REQUIRE(used <= per_window);
  }
}

TEST_CASE("the leases of a SIGKILLed holder come back to the next acquire") {
  temp_dir dir;
  auto s = applied(dir.path(), "[[limit]]\nname = \"gpu\"\nconcurrency = 2\n");
  shared<std::atomic<int>> held;
  child_group children;
  std::vector<pid_t> pids;
  for (int c = 0; c < 2; ++c) {
    pids.push_back(sluice::test::spawn([&] {
      auto mine = store::open(dir.path());
      if (!mine) return 2;
      if (acquire_once(mine.value(), "gpu").status != acquire_status::granted) return 3;
      held->fetch_add(1);
      for (;;) ::pause();
    }));
  }
  REQUIRE(sluice::test::eventually([&] { return held->load() == 2; }));
  CHECK(acquire_once(s, "gpu").status == acquire_status::wait);  // both held by live processes
  for (pid_t pid : pids) {
    ::kill(pid, SIGKILL);
    CHECK(sluice::test::reap(pid) == 128 + SIGKILL);
  }
  const auto a = acquire_once(s, "gpu");
  const auto b = acquire_once(s, "gpu");
  CHECK(a.status == acquire_status::granted);
  CHECK(b.status == acquire_status::granted);
  CHECK(s.raw().limits[s.current().value()->limits[0].state].reclaimed.load() == 2);
}

TEST_CASE("a policy applied while senders run governs their next send") {
  temp_dir dir;
  auto s = applied(dir.path(), "[[rule]]\nname = \"watch\"\naction = \"log\"\n");
  shared<std::atomic<int>> started;
  child_group children;
  for (int c = 0; c < 4; ++c) {
    children.spawn([&] {
      send_gate gate(dir.path());
      const sluice::backpressure::admission_request q{"worker", "boss", "task",
                                                      sluice::inbox::priority::normal};
      if (gate.admit(q, monotonic_ns()).kind != sluice::backpressure::admit_kind::allow) return 2;
      started->fetch_add(1);
      const bool denied = sluice::test::eventually([&] {
        return gate.admit(q, monotonic_ns()).kind == sluice::backpressure::admit_kind::deny;
      });
      return denied ? 0 : 1;
    });
  }
  REQUIRE(sluice::test::eventually([&] { return started->load() == 4; }));
  REQUIRE(s.apply(parse("[[rule]]\nname = \"stop\"\nfrom = \"work*\"\naction = \"deny\"\n"),
                  "v2.toml"));
  for (int code : children.wait_all()) CHECK(code == 0);
  CHECK(s.generation() == 2);
}

TEST_CASE("a refused acquire gives back what earlier steps took, and a hard quota refuses") {
  temp_dir dir;
  auto s = applied(dir.path(),
                   "[[limit]]\nname = \"llm\"\nrate = \"100/m\"\nburst = 100\nquota = \"10/d\"\n");
  CHECK(acquire_once(s, "llm", 8).status == acquire_status::granted);
  CHECK(acquire_once(s, "llm", 3).status == acquire_status::refused);
  CHECK(acquire_once(s, "llm", 2).status == acquire_status::granted);
  const auto& st = s.raw().limits[s.current().value()->limits[0].state];
  CHECK(quota_used(st, quota_period::day, realtime_ns()) == 10);
  // Two grants took from the rate; the refused one gave its unit back.
  CHECK(inspect(st.rate_word.load(), *s.current().value()->limits[0].rate, monotonic_ns())
            .available >= 97);
}

TEST_CASE(
    "a C++ lease gives itself back when it goes out of scope, and waits for one that is held") {
  temp_dir dir;
  auto s = applied(dir.path(), "[[limit]]\nname = \"gpu\"\nconcurrency = 1\n");
  auto gov = governor::open(dir.path());
  REQUIRE(gov);
  {
    auto first = gov.value().acquire("gpu", 1, std::chrono::seconds(1));
    REQUIRE(first);
    const auto second = gov.value().acquire("gpu", 1, std::chrono::milliseconds(20));
    CHECK_FALSE(second);
    CHECK(second.result().status == acquire_status::wait);
  }
  CHECK(gov.value().acquire("gpu", 1, std::chrono::milliseconds(0)));
  CHECK(gov.value().acquire("nope", 1, std::chrono::milliseconds(0)).result().status ==
        acquire_status::unknown);
}

// The lease belongs to the process that acquired it: a child forked while it is held (one
// that returns through the holder's scope, or exits normally and so destroys it) must not
// give it back under the parent.
TEST_CASE("a lease released in a child forked while it is held stays with the parent") {
  temp_dir dir;
  auto s = applied(dir.path(), "[[limit]]\nname = \"gpu\"\nconcurrency = 1\n");
  auto gov = governor::open(dir.path());
  REQUIRE(gov);
  auto held = gov.value().acquire("gpu", 1, std::chrono::seconds(1));
  REQUIRE(held);
  const pid_t child = sluice::test::spawn([&] {
    held.release();
    return 0;
  });
  REQUIRE(sluice::test::reap(child) == 0);
  CHECK(acquire_once(s, "gpu").status == acquire_status::wait);  // still the parent's
  held.release();
  CHECK(acquire_once(s, "gpu").status == acquire_status::granted);
}
