// sequence_checker: in-order streams are clean; gaps, late arrivals, duplicates and missing
// tails are each counted exactly, per stream, and summaries add up across sinks.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

#include "actors/loadtest/sequence_checker.hpp"

using sluice::actors::sequence_checker;
using sluice::actors::sequence_summary;
using sluice::actors::sequence_verdict;

TEST_CASE("interleaved in-order streams report nothing lost, duplicated or reordered") {
  sequence_checker c;
  for (std::uint64_t seq = 0; seq < 1000; ++seq) {
    for (std::uint32_t sender = 0; sender < 8; ++sender) {
      REQUIRE(c.observe(sequence_checker::stream_of(sender, 1), seq) == sequence_verdict::in_order);
    }
  }
  for (std::uint32_t sender = 0; sender < 8; ++sender)
    c.expect(sequence_checker::stream_of(sender, 1), 1000);
  const auto s = c.summary();
  REQUIRE(s.received == 8000);
  REQUIRE(s.unique == 8000);
  REQUIRE(s.lost == 0);
  REQUIRE(s.duplicated == 0);
  REQUIRE(s.reordered == 0);
}

TEST_CASE("a message that never arrives is lost") {
  sequence_checker c;
  REQUIRE(c.observe(1, 0) == sequence_verdict::in_order);
  REQUIRE(c.observe(1, 2) == sequence_verdict::gap);
  REQUIRE(c.observe(1, 3) == sequence_verdict::in_order);
  c.expect(1, 4);
  const auto s = c.summary();
  REQUIRE(s.lost == 1);
  REQUIRE(s.reordered == 0);
  REQUIRE(c.missing(1) == 1);
}

TEST_CASE("a missing tail counts as lost once the sender says how many it sent") {
  sequence_checker c;
  for (std::uint64_t seq = 0; seq < 10; ++seq) (void)c.observe(5, seq);
  REQUIRE(c.summary().lost == 0);  // nothing is known missing until expect()
  c.expect(5, 15);
  REQUIRE(c.summary().lost == 5);
  c.expect(6, 3);  // a stream that never delivered anything
  REQUIRE(c.summary().lost == 8);
}

TEST_CASE("a message arriving after a higher sequence is reordered, not lost") {
  sequence_checker c;
  REQUIRE(c.observe(0, 0) == sequence_verdict::in_order);
  REQUIRE(c.observe(0, 3) == sequence_verdict::gap);
  REQUIRE(c.observe(0, 2) == sequence_verdict::late);
  REQUIRE(c.observe(0, 1) == sequence_verdict::late);
  REQUIRE(c.observe(0, 4) == sequence_verdict::in_order);
  c.expect(0, 5);
  const auto s = c.summary();
  REQUIRE(s.reordered == 2);
  REQUIRE(s.lost == 0);
  REQUIRE(s.duplicated == 0);
  REQUIRE(s.unique == 5);
}

TEST_CASE("a sequence seen twice is a duplicate whether it came in order or late") {
  sequence_checker c;
  (void)c.observe(0, 0);
  (void)c.observe(0, 1);
  REQUIRE(c.observe(0, 1) == sequence_verdict::duplicate);
  REQUIRE(c.observe(0, 0) == sequence_verdict::duplicate);
  (void)c.observe(0, 5);
  REQUIRE(c.observe(0, 3) == sequence_verdict::late);
  REQUIRE(c.observe(0, 3) == sequence_verdict::duplicate);
  REQUIRE(c.observe(0, 5) == sequence_verdict::duplicate);
  c.expect(0, 6);
  const auto s = c.summary();
  REQUIRE(s.duplicated == 4);
  REQUIRE(s.reordered == 1);
  REQUIRE(s.lost == 2);  // 2 and 4
  REQUIRE(s.received == 8);
}

TEST_CASE("streams are independent: order is per stream, not global") {
  sequence_checker c;
  const auto critical = sequence_checker::stream_of(7, 3);
  const auto normal = sequence_checker::stream_of(7, 1);
  REQUIRE(critical != normal);
  REQUIRE(c.observe(normal, 0) == sequence_verdict::in_order);
  REQUIRE(c.observe(critical, 0) == sequence_verdict::in_order);
  REQUIRE(c.observe(normal, 1) == sequence_verdict::in_order);
  REQUIRE(c.summary().reordered == 0);
}

TEST_CASE("a shuffled stream with drops and repeats matches a brute-force count") {
  std::mt19937_64 rng{11};
  const std::uint64_t sent = 5000;
  std::vector<std::uint64_t> delivered;
  for (std::uint64_t seq = 0; seq < sent; ++seq) {
    if (rng() % 50 == 0) continue;  // lost
    delivered.push_back(seq);
    if (rng() % 70 == 0) delivered.push_back(seq);  // duplicated
  }
  // Local shuffles only, like a consumer that redelivers a batch.
  for (std::size_t i = 0; i + 8 < delivered.size(); i += 97)
    std::shuffle(delivered.begin() + i, delivered.begin() + i + 8, rng);

  std::vector<bool> seen(sent, false);
  std::uint64_t highest_plus_one = 0;
  std::uint64_t dup = 0;
  std::uint64_t late = 0;
  for (const auto seq : delivered) {
    if (seen[seq]) {
      ++dup;
      continue;
    }
    seen[seq] = true;
    if (seq < highest_plus_one) ++late;
    highest_plus_one = std::max(highest_plus_one, seq + 1);
  }
  const auto lost = static_cast<std::uint64_t>(std::count(seen.begin(), seen.end(), false));

  sequence_checker c;
  for (const auto seq : delivered) (void)c.observe(9, seq);
  c.expect(9, sent);
  const auto s = c.summary();
  REQUIRE(s.duplicated == dup);
  REQUIRE(s.reordered == late);
  REQUIRE(s.lost == lost);
  REQUIRE(s.unique == sent - lost);
  REQUIRE(s.received == delivered.size());
}

TEST_CASE("summaries from several sinks add up") {
  sequence_summary a{10, 9, 1, 2, 3};
  const sequence_summary b{5, 5, 0, 1, 0};
  a += b;
  REQUIRE(a.received == 15);
  REQUIRE(a.unique == 14);
  REQUIRE(a.duplicated == 1);
  REQUIRE(a.reordered == 3);
  REQUIRE(a.lost == 3);
}
