// The C++ layer under both bindings (bindings/bus, bindings/receiver): thread safety (built
// and run under TSan too: no CAF), waits that a binding can stop, and the error table.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bindings/bus.hpp"
#include "bindings/permit.hpp"
#include "bindings/receiver.hpp"
#include "governance/clock.hpp"
#include "governance/policy_file.hpp"
#include "governance/report.hpp"
#include "governance/store.hpp"
#include "inbox/impl.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/exit_codes.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<bindings::bus> open_bus(const std::filesystem::path& dir) {
  bindings::open_options opts;
  opts.dir = dir;
  return bindings::bus::open(opts);
}

// Stops a wait after a number of slices, as Ctrl-C or a closed receiver would.
class stop_after final : public bindings::waiter {
 public:
  explicit stop_after(int slices) : left_(slices) {}
  bool keep_waiting() noexcept override { return --left_ > 0; }

 private:
  int left_;
};

// An inbox of `capacity` slots, full.
void fill(const std::filesystem::path& dir, const char* agent, std::uint32_t capacity) {
  inbox::create_options opts;
  opts.capacity = capacity;
  auto box = inbox::inbox::open_or_create(dir, agent, opts);
  REQUIRE(box);
  for (std::uint32_t i = 0; i < capacity; ++i)
    REQUIRE(box->try_push({"a", "t", "x"}) == inbox::push_result::ok);
}

}  // namespace

TEST_CASE("sends from many threads through one bus arrive, each exactly once") {
  test::temp_bus t;
  auto bus = open_bus(t.dir());
  constexpr int threads = 4;
  constexpr int per_thread = 500;
  std::vector<std::thread> senders;
  for (int k = 0; k < threads; ++k) {
    senders.emplace_back([&, k] {
      for (int i = 0; i < per_thread; ++i) {
        // Two destinations opened concurrently through the shared inbox cache.
        const std::string to = (i % 2) ? "odd" : "even";
        (void)bus->send("s", to, "t", std::to_string(k * per_thread + i), {},
                        bindings::plain_waiter());
      }
    });
  }
  std::set<std::string> seen;
  for (const char* agent : {"even", "odd"}) {
    bindings::receiver r(bus, agent);
    for (;;) {
      const auto batch = r.pop_wait(1000, 5s, bindings::plain_waiter());
      if (batch.size == 0) break;
      for (std::size_t i = 0; i < batch.size; ++i)
        CHECK(seen.emplace(batch.data[i].payload).second);
      r.commit();
      if (seen.size() == threads * per_thread) break;
    }
  }
  for (auto& s : senders) s.join();
  CHECK(seen.size() == threads * per_thread);
}

TEST_CASE("sends from many threads obey the bus policy, each decided once") {
  test::temp_bus t;
  REQUIRE(runtime::ensure_bus_dir(t.dir()));
  auto parsed = governance::parse_policy(
      "[[rule]]\nname = \"count-all\"\nto = \"w\"\ntype = \"t\"\naction = \"limit\"\nrate = "
      "\"1000000/s\"\n"
      "burst = 1000000\n[[rule]]\nname = \"no-spam\"\ntype = \"spam\"\naction = \"deny\"\n",
      "test.toml");
  REQUIRE(parsed.value);
  auto store = governance::store::open_or_create(t.dir());
  REQUIRE(store);
  REQUIRE(store.value().apply(*parsed.value, "test.toml"));
  auto bus = open_bus(t.dir());
  constexpr int threads = 4;
  constexpr int per_thread = 250;
  std::atomic<int> denied{0};
  std::vector<std::thread> senders;
  for (int k = 0; k < threads; ++k) {
    senders.emplace_back([&, k] {
      for (int i = 0; i < per_thread; ++i) {
        (void)bus->send("s", "w", "t", std::to_string(k * per_thread + i), {},
                        bindings::plain_waiter());
        try {
          (void)bus->send("s", "w", "spam", "x", {}, bindings::plain_waiter());
        } catch (const bindings::error& e) {
          if (e.exit_code() == runtime::exit_code::unavailable) ++denied;
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  CHECK(denied == threads * per_thread);
  CHECK(bus->count("w") == threads * per_thread);
  auto policy = store.value().current();
  REQUIRE(policy);
  const auto n =
      governance::snapshot(store.value().raw(), *policy.value(), governance::realtime_ns());
  REQUIRE(n.rules.size() == 2);
  CHECK(n.rules[0].allowed == threads * per_thread);
  CHECK(n.rules[1].denied == threads * per_thread);
}

TEST_CASE("a receiver waiting in slices gets a message sent from another thread") {
  test::temp_bus t;
  auto bus = open_bus(t.dir());
  bindings::receiver r(bus, "w");
  std::thread sender([&] {
    std::this_thread::yield();
    (void)bus->send("s", "w", "t", "hello", {}, bindings::plain_waiter());
  });
  const auto batch = r.pop_wait(10, 30s, bindings::plain_waiter());
  sender.join();
  REQUIRE(batch.size == 1);
  CHECK(batch.data[0].payload == "hello");
}

// Python's waiter: the interpreter lock is let go for each slice of a wait.
class gil_waiter final : public bindings::waiter {
 public:
  explicit gil_waiter(std::mutex& gil) : gil_(gil) {}
  void block(const std::function<void()>& slice) noexcept override {
    gil_.unlock();
    slice();
    gil_.lock();
  }

 private:
  std::mutex& gil_;
};

// So another Python thread may pop, commit or close the receiver while one waits in it: two
// threads sharing a receiver, or one closing it to stop the other. The wait must touch nothing
// of the consumer's own meanwhile (TSan finds it if it does), and end once it is closed.
TEST_CASE("a receiver's wait lets another thread pop commit and close meanwhile") {
  test::temp_bus t;
  auto bus = open_bus(t.dir());
  bindings::receiver r(bus, "w");
  std::mutex gil;
  std::atomic<bool> closed_seen{false};
  std::thread waiting([&] {
    gil_waiter w(gil);
    std::lock_guard<std::mutex> hold(gil);
    try {
      for (;;) (void)r.pop_wait(10, 2ms, w);
    } catch (const bindings::error& e) {
      closed_seen = e.kind() == bindings::error_kind::unavailable;
    }
  });
  constexpr int messages = 300;
  for (int i = 0; i < messages; ++i) {
    std::lock_guard<std::mutex> hold(gil);
    (void)bus->send("s", "w", "t", std::to_string(i), {}, bindings::plain_waiter());
    const auto batch = r.pop(0);
    REQUIRE(batch.size == 1);
    CHECK(batch.data[0].payload == std::to_string(i));
    r.commit();
  }
  {
    std::lock_guard<std::mutex> hold(gil);
    r.close();
    (void)bus->send("s", "w", "t", "after close", {}, bindings::plain_waiter());
  }
  waiting.join();
  CHECK(closed_seen);
  bindings::receiver next(bus, "w");
  const auto left = next.pop(0);
  REQUIRE(left.size == 1);
  CHECK(left.data[0].payload == "after close");
}

// The wait above reads only the shared memory, so the receiver itself must give back what a
// producer killed between its admission and its position claim left: an inbox one slot
// smaller for as long as the receiver idles. The leak is made by hand, as that producer
// leaves it.
TEST_CASE("an idle receiver gives back an admission a dead producer left") {
  test::temp_bus t;
  auto bus = open_bus(t.dir());
  bindings::receiver r(bus, "w");
  auto raw = inbox::inbox::open(t.dir(), "w");
  REQUIRE(raw);
  auto& m = inbox::detail::inbox_access::of(raw.value());
  m.h->claims.value.fetch_add(1);
  REQUIRE(m.leaked_admissions() == 1);
  // About a grace period (100 ms) is what inbox.hpp promises; 30 of them leave room for a
  // sanitizer's load. pop_batch's sweep alone needs 64 empty pops (3.2 s of slices).
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (m.leaked_admissions() > 0 && std::chrono::steady_clock::now() < deadline)
    CHECK(r.pop_wait(10, 100ms, bindings::plain_waiter()).size == 0);
  CHECK(m.leaked_admissions() == 0);
}

TEST_CASE("a stopped wait ends a receive with interrupted, consuming nothing") {
  test::temp_bus t;
  auto bus = open_bus(t.dir());
  bindings::receiver r(bus, "w");
  stop_after stop(2);
  CHECK_THROWS_AS(r.pop_wait(10, std::nullopt, stop), bindings::interrupted);
}

TEST_CASE(
    "a stopped wait ends a send on a full inbox with interrupted: nothing sent, no failure "
    "counted") {
  test::temp_bus t;
  fill(t.dir(), "w", 2);
  auto bus = open_bus(t.dir());
  bindings::send_options opts;
  opts.timeout = std::chrono::minutes(10);
  stop_after stop(3);
  CHECK_THROWS_AS(bus->send("s", "w", "t", "never", opts, stop), bindings::interrupted);
  const auto row = bus->stats("w");
  for (const auto& [key, value] : row.counters) {
    INFO(key);
    if (std::string(key) == "size") CHECK(value == 2);
    if (std::string(key) == "send_failures") CHECK(value == 0);
  }
  CHECK(row.breaker == "closed");
}

TEST_CASE("an inbox that stays full is a backpressure error carrying what the send did") {
  test::temp_bus t;
  fill(t.dir(), "w", 2);
  auto bus = open_bus(t.dir());
  bindings::send_options opts;
  opts.timeout = 20ms;
  try {
    (void)bus->send("s", "w", "t", "x", opts, bindings::plain_waiter());
    FAIL("sent into a full inbox");
  } catch (const bindings::error& e) {
    CHECK(e.kind() == bindings::error_kind::backpressure);
    CHECK(e.exit_code() == runtime::exit_code::temp_fail);
    CHECK(e.attempts >= 2);
    CHECK_THAT(e.what(), Catch::Contains("stayed full"));
  }
}

TEST_CASE("a payload a new inbox would refuse is too_large and creates nothing") {
  test::temp_bus t;
  auto bus = open_bus(t.dir());
  try {
    (void)bus->send("s", "new", "t", std::string(5000, 'x'), {}, bindings::plain_waiter());
    FAIL("sent");
  } catch (const bindings::error& e) {
    CHECK(e.kind() == bindings::error_kind::too_large);
    CHECK(e.exit_code() == runtime::exit_code::bad_input);
  }
  CHECK(bus->agents().empty());
}

TEST_CASE("every error kind has the exit code of runtime/exit_codes for that failure") {
  using bindings::error_kind;
  namespace code = runtime::exit_code;
  const std::pair<error_kind, int> expected[] = {
      {error_kind::bad_input, code::bad_input},      {error_kind::too_large, code::bad_input},
      {error_kind::not_found, code::no_input},       {error_kind::unavailable, code::unavailable},
      {error_kind::circuit_open, code::unavailable}, {error_kind::internal, code::software},
      {error_kind::os_error, code::os_error},        {error_kind::io_error, code::io_error},
      {error_kind::backpressure, code::temp_fail},   {error_kind::busy, code::temp_fail},
      {error_kind::permission, code::no_permission},
  };
  CHECK(bindings::error_kind_count == std::size(expected));
  for (const auto& [kind, exit_code] : expected) {
    INFO(bindings::describe(kind).name);
    CHECK(bindings::describe(kind).exit_code == exit_code);
  }
}

TEST_CASE(
    "permits of one lease from several threads never overlap, and a stopped wait takes nothing") {
  test::temp_bus t;
  REQUIRE(runtime::ensure_bus_dir(t.dir()));
  auto parsed =
      governance::parse_policy("[[limit]]\nname = \"gpu\"\nconcurrency = 1\n", "test.toml");
  REQUIRE(parsed.value);
  auto store = governance::store::open_or_create(t.dir());
  REQUIRE(store);
  REQUIRE(store.value().apply(*parsed.value, "test.toml"));
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::vector<std::thread> users;
  for (int i = 0; i < 4; ++i) {
    users.emplace_back([&] {
      for (int k = 0; k < 25; ++k) {
        bindings::acquire_options opts;
        opts.timeout = 30s;
        auto p = bindings::permit::acquire(t.dir(), "gpu", opts, bindings::plain_waiter());
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        inside.fetch_sub(1);
        p->release();
      }
    });
  }
  for (auto& u : users) u.join();
  CHECK(overlaps == 0);
  auto held = bindings::permit::acquire(t.dir(), "gpu", {}, bindings::plain_waiter());
  bindings::acquire_options opts;
  opts.timeout = 600s;
  stop_after stop(3);
  CHECK_THROWS_AS(bindings::permit::acquire(t.dir(), "gpu", opts, stop), bindings::interrupted);
  held->release();
  CHECK(bindings::permit::acquire(t.dir(), "gpu", {}, bindings::plain_waiter())->lease() != "");
}
