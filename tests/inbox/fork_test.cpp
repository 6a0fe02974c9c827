// A process that forks while it consumes: the child (a Python multiprocessing worker, a forked
// C++ helper) neither keeps the consumer lock nor consumes (inbox/forked_consumers.hpp).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inbox/inbox.hpp"
#include "inbox/test_hooks.hpp"
#include "messages.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"
#include "test_inbox.hpp"

using namespace sluice::inbox;
using testing::make_small_inbox;
using testing::msg;

// fork shares the lock's open file description: a child that lives on (a Python
// multiprocessing worker) kept the lock after the parent let go, and nobody could attach.
TEST_CASE("a child forked while a consumer is attached neither keeps its lock nor consumes") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  REQUIRE(in.try_push(msg("pending")) == push_result::ok);
  auto attached = in.attach_consumer();
  REQUIRE(attached);
  std::optional<consumer> c(std::move(attached.value()));
  REQUIRE(c->held());
  int report[2];
  int go[2];
  REQUIRE(::pipe(report) == 0);
  REQUIRE(::pipe(go) == 0);
  sluice::test::child_group children;
  children.spawn([&] {
    // What the child's copy of the consumer does: nothing, and a new one is refused while
    // the parent consumes.
    const auto again = in.attach_consumer();
    char seen[3] = {c->held() ? 'h' : '-', c->pop_batch(10).empty() ? '0' : 'n',
                    !again && again.err().code == errc::busy ? 'b' : '-'};
    c->commit();
    if (::write(report[1], seen, sizeof seen) != sizeof seen) return 1;
    char ignored;
    return ::read(go[0], &ignored, 1) == 1 ? 0 : 2;  // lives on until the parent is done
  });
  char seen[4] = {};
  REQUIRE(::read(report[0], seen, 3) == 3);
  CHECK(std::string(seen) == "-0b");
  c.reset();  // the parent lets go while the child lives
  auto next = in.attach_consumer();
  REQUIRE(next);
  const auto batch = next->pop_batch(10);
  REQUIRE(batch.size() == 1);  // the child's commit freed nothing
  CHECK(batch[0].payload == "pending");
  REQUIRE(::write(go[1], "x", 1) == 1);
  CHECK(children.wait_all() == std::vector<int>{0});
  for (int fd : {report[0], report[1], go[0], go[1]}) ::close(fd);
}

namespace {

// What the hook, a plain function pointer, reaches.
sluice::test::child_group* forking_group = nullptr;
int started = -1;  // the child writes a byte here once its fork handlers ran
int live_on_until_readable = -1;

void fork_a_child_that_lives_on() {
  forking_group->spawn([] {
    if (::write(started, "s", 1) != 1) return 1;
    char ignored;
    return ::read(live_on_until_readable, &ignored, 1) == 1 ? 0 : 2;
  });
}

struct hook_set {
  explicit hook_set(void (*f)()) { test_hooks::before_consumer_lock = f; }
  ~hook_set() { test_hooks::before_consumer_lock = nullptr; }
  hook_set(const hook_set&) = delete;
  hook_set& operator=(const hook_set&) = delete;
};

}  // namespace

// Another thread may fork while this one attaches: a child forked after the lock's descriptor
// was opened and before the fork handler knew of it kept a copy, so the lock taken next stayed
// held through the child.
TEST_CASE("a child forked while a consumer attaches does not keep its lock") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  int start[2];
  int live_on[2];
  REQUIRE(::pipe(start) == 0);
  REQUIRE(::pipe(live_on) == 0);
  sluice::test::child_group children;
  forking_group = &children;
  started = start[1];
  live_on_until_readable = live_on[0];
  std::optional<consumer> first;
  {
    const hook_set fork_inside_attach(fork_a_child_that_lives_on);
    auto attached = in.attach_consumer();
    REQUIRE(attached);
    first.emplace(std::move(attached.value()));
  }
  char ignored;
  REQUIRE(::read(start[0], &ignored, 1) == 1);
  first.reset();  // the parent lets go while the child lives
  const auto next = in.attach_consumer();
  CHECK((next ? std::string("attached") : next.err().message) == "attached");
  REQUIRE(::write(live_on[1], "x", 1) == 1);
  CHECK(children.wait_all() == std::vector<int>{0});
  for (int fd : {start[0], start[1], live_on[0], live_on[1]}) ::close(fd);
}
