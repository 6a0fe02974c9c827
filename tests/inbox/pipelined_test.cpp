// Pipelined reading (consumer::pop_next, commit_through): reading on past the uncommitted
// messages, and committing a prefix of what was read.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "inbox/inbox.hpp"
#include "messages.hpp"
#include "support/temp_dir.hpp"
#include "test_inbox.hpp"

using namespace sluice::inbox;
using testing::make_small_inbox;
using testing::msg;

namespace {

void push_all(inbox& in, const std::vector<std::string>& payloads, priority p = priority::normal) {
  for (const auto& s : payloads) REQUIRE(in.try_push(msg(s, p)) == push_result::ok);
}

std::vector<std::string> payloads(const received_message* m, std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(m[i].payload);
  return out;
}

// pop_next into a fresh buffer: the payloads and the batch number.
std::pair<std::vector<std::string>, std::uint64_t> next(consumer& c, std::size_t max) {
  std::vector<received_message> buf(max);
  std::uint64_t batch = 0;
  const std::size_t n = c.pop_next(buf.data(), max, batch);
  return {payloads(buf.data(), n), batch};
}

std::vector<std::string> reread(consumer& c, std::size_t max) {
  const auto got = c.pop_batch(max);
  return payloads(got.data(), got.size());
}

using list = std::vector<std::string>;

}  // namespace

TEST_CASE("pop_next reads on after the uncommitted messages instead of reading them again") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  push_all(in, {"a", "b", "c", "d", "e"});
  auto c = in.attach_consumer();
  REQUIRE(c);
  const auto [first, one] = next(*c, 2);
  const auto [second, two] = next(*c, 2);
  CHECK(first == list{"a", "b"});
  CHECK(second == list{"c", "d"});
  CHECK(two > one);
  CHECK(in.size() == 5);  // nothing committed yet
}

TEST_CASE(
    "commit_through commits the messages up to the end of its batch and leaves the later ones "
    "pending") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  push_all(in, {"a", "b", "c", "d", "e"});
  auto c = in.attach_consumer();
  REQUIRE(c);
  const auto one = next(*c, 2).second;
  const auto two = next(*c, 2).second;
  REQUIRE(c->commit_through(one));
  CHECK(in.snapshot().dequeued == 2);
  CHECK(in.size() == 3);
  CHECK(in.peek(10).front().payload == "c");
  REQUIRE(c->commit_through(two));
  CHECK(in.snapshot().dequeued == 4);
  CHECK(in.size() == 1);
  CHECK(next(*c, 4).first == list{"e"});
}

TEST_CASE("pop_batch reads every uncommitted pipelined batch again and forgets their numbers") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  push_all(in, {"a", "b", "c", "d"});
  auto c = in.attach_consumer();
  REQUIRE(c);
  const auto one = next(*c, 1).second;
  const auto two = next(*c, 1).second;
  REQUIRE(c->commit_through(one));
  CHECK(reread(*c, 8) == list{"b", "c", "d"});
  CHECK_FALSE(c->commit_through(two));  // forgotten: committing it now would skip c and d
  CHECK(in.snapshot().dequeued == 1);
  c->commit();
  CHECK(in.size() == 0);
}

TEST_CASE("commit_through of a batch already committed or never read does nothing") {
  sluice::test::temp_bus bus;
  auto in = make_small_inbox(bus);
  push_all(in, {"a", "b", "c"});
  auto c = in.attach_consumer();
  REQUIRE(c);
  const auto one = next(*c, 1).second;
  const auto two = next(*c, 1).second;
  REQUIRE(c->commit_through(two));  // commits the first batch with it
  CHECK_FALSE(c->commit_through(one));
  CHECK_FALSE(c->commit_through(two));
  CHECK_FALSE(c->commit_through(two + 1));
  CHECK(in.snapshot().dequeued == 2);
  std::uint64_t none = 0;
  received_message buf[4];
  REQUIRE(c->pop_next(buf, 4, none) == 1);
  c->commit();  // a whole commit takes the pipelined batches with it
  CHECK_FALSE(c->commit_through(none));
  CHECK(in.size() == 0);
}

TEST_CASE(
    "after a prefix commit between priority lanes pop_batch reads the rest in the same order") {
  // Whichever batch is committed, the weighted round-robin resumes from where that batch left
  // it, so the re-read repeats exactly what the pipelined reads gave after it.
  for (std::size_t k = 0; k < 9; ++k) {
    sluice::test::temp_bus bus;
    auto in = make_small_inbox(bus);
    push_all(in, {"h1", "h2", "h3", "h4"}, priority::high);
    push_all(in, {"n1", "n2", "n3", "n4"}, priority::normal);
    push_all(in, {"l1", "l2"}, priority::low);
    auto c = in.attach_consumer();
    REQUIRE(c);
    list pipelined;
    std::uint64_t kth = 0;
    for (std::size_t i = 0; i < 10; ++i) {
      auto [got, batch] = next(*c, 1);
      REQUIRE(got.size() == 1);
      pipelined.push_back(got[0]);
      if (i == k) kth = batch;
    }
    REQUIRE(c->commit_through(kth));
    INFO("committed through read " << k);
    CHECK(reread(*c, 16) ==
          list(pipelined.begin() + static_cast<std::ptrdiff_t>(k) + 1, pipelined.end()));
  }
}
