// What careless or hostile outsiders do to an inbox file while processes use it: truncate it,
// leave a slot claimed by a producer killed mid-write, leave the high and low rings unbacked.
// None of it may crash a reader or wedge a one-shot consumer.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "inbox/impl.hpp"
#include "inbox/inbox.hpp"
#include "inbox/test_hooks.hpp"
#include "messages.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;
using namespace sluice::inbox::testing;
using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

create_options small() {
  create_options o;
  o.capacity = 16;
  o.critical_reserve = 4;
  o.slot_size = 512;
  return o;
}

std::uint64_t allocated_bytes(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

void die_on_claim() {
  ::raise(SIGKILL);
}

}  // namespace

TEST_CASE(
    "a consumer that attaches after a producer died between claim and publish skips its "
    "slot at once") {
  temp_bus bus;
  auto in = inbox::open_or_create(bus.dir(), "w", small());
  REQUIRE(in);
  const pid_t victim = spawn([&] {
    test_hooks::after_claim = die_on_claim;
    auto mine = inbox::open(bus.dir(), "w");
    if (!mine) return 10;
    (void)mine->try_push(msg("lost with its producer"));
    return 11;  // not reached: the hook kills the process after its stamp
  });
  REQUIRE(reap(victim) == 128 + SIGKILL);
  REQUIRE(in->try_push(msg("one")) == push_result::ok);
  REQUIRE(in->try_push(msg("two")) == push_result::ok);
  // A one-shot consumer: attach, one pop, commit, detach; like `sluice recv w` from a shell.
  auto c = in->attach_consumer();
  REQUIRE(c);
  const auto batch = c->pop_batch(8);
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].payload == "one");
  CHECK(batch[1].payload == "two");
  c->commit();
  CHECK(in->snapshot().abandoned == 1);
  CHECK(in->size() == 0);
}

TEST_CASE(
    "a slot claimed but never stamped is skipped by one-shot consumers once the grace "
    "period has passed since one of them first saw it") {
  temp_bus bus;
  auto in = inbox::open_or_create(bus.dir(), "w", small());
  REQUIRE(in);
  // A producer killed between its position claim and its stamp: admission and position taken,
  // the slot left as it was. No hook sits there, so the test takes the two steps itself.
  auto& raw = detail::inbox_access::of(*in);
  raw.h->claims.value.fetch_add(1);
  raw.h->tail[normal_lane].value.fetch_add(1);
  REQUIRE(in->try_push(msg("behind the hole")) == push_result::ok);

  const consumer_options opts{5ms};
  std::size_t sessions = 0;
  std::vector<std::string> got;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (got.empty() && std::chrono::steady_clock::now() < deadline) {
    auto c = in->attach_consumer(opts);  // a new process each time, as far as the inbox knows
    REQUIRE(c);
    for (const auto& m : c->pop_batch(8)) got.emplace_back(m.payload);
    c->commit();
    ++sessions;
  }
  INFO("one-shot sessions: " << sessions);
  REQUIRE(got == std::vector<std::string>{"behind the hole"});
  CHECK(in->snapshot().abandoned == 1);
}

TEST_CASE(
    "an inbox truncated under its readers and writers reports broken instead of killing "
    "them with SIGBUS") {
  temp_bus bus;
  auto in = inbox::open_or_create(bus.dir(), "w", small());
  REQUIRE(in);
  REQUIRE(in->try_push(msg("before")) == push_result::ok);
  auto reader = inbox::open(bus.dir(), "w");
  REQUIRE(reader);
  auto c = in->attach_consumer();
  REQUIRE(c);

  REQUIRE(::truncate(in->path().c_str(), 0) == 0);

  CHECK(c->pop_batch(8).empty());
  CHECK(in->broken());
  CHECK(in->try_push(msg("after")) == push_result::broken);
  CHECK(in->wait_not_empty(10ms) == wake_reason::broken);
  CHECK(in->wait_not_full(10ms) == wake_reason::broken);
  c->commit();  // writes only private zero pages now

  CHECK(reader->peek(8).empty());
  CHECK(reader->broken());
  CHECK(reader->try_push(msg("after")) == push_result::broken);
  const message_view two[2] = {msg("a"), msg("b")};
  push_result why = push_result::ok;
  CHECK(reader->try_push_batch(two, 2, &why) == 0);
  CHECK(why == push_result::broken);
}

TEST_CASE("a SIGBUS outside every inbox mapping still kills the process") {
  temp_bus bus;
  std::filesystem::create_directories(bus.dir());
  const pid_t child = spawn([&] {
    auto in = inbox::open_or_create(bus.dir(), "w", small());  // installs the handler
    if (!in) return 10;
    ::raise(SIGBUS);  // not a fault in a guarded mapping: the handler before ours applies
    return 11;
  });
  const int status = reap(child);
  if (sanitized) {
    CHECK(status != 11);  // AddressSanitizer's own SIGBUS handler reports it and aborts
  } else {
    CHECK(status == 128 + SIGBUS);
  }
}

TEST_CASE(
    "a new inbox backs its critical and normal rings only, and the first high or low message "
    "backs that lane's ring") {
  temp_bus bus;
  create_options o;  // the defaults: 1024-slot rings of 4 KiB
  auto in = inbox::open_or_create(bus.dir(), "w", o);
  REQUIRE(in);
  auto& raw = detail::inbox_access::of(*in);
  const std::uint64_t ring_bytes = 1024ull * 4096;
  const std::uint64_t at_creation = allocated_bytes(in->path());
  CHECK(at_creation < 2 * ring_bytes + 64 * 4096 + 8192);
  CHECK(raw.lane_in_use(normal_lane));
  CHECK(raw.lane_in_use(critical_lane));
  CHECK_FALSE(raw.lane_in_use(static_cast<std::size_t>(priority::high)));
  CHECK_FALSE(raw.lane_in_use(static_cast<std::size_t>(priority::low)));

  // Readers go through every lane without touching the unbacked rings (on a full tmpfs
  // touching them would be SIGBUS): nothing gets allocated by looking.
  auto c = in->attach_consumer();
  REQUIRE(c);
  CHECK(c->pop_batch(8).empty());
  CHECK(in->peek(8).empty());
  CHECK(allocated_bytes(in->path()) == at_creation);

  REQUIRE(in->try_push(msg("h", priority::high)) == push_result::ok);
  CHECK(raw.lane_in_use(static_cast<std::size_t>(priority::high)));
  CHECK(allocated_bytes(in->path()) >= at_creation + ring_bytes);
  const auto batch = c->pop_batch(8);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].prio == priority::high);
  c->commit();
}
