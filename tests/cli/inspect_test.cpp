// count / get-size, check-capacity, get-utilization, get-stats in the seed's formats.
#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

TEST_CASE("count and get-size print the number of pending messages") {
  bus_fixture bus;
  for (int i = 0; i < 3; ++i) ok_out(bus, {"send", "a", "b", "t", "x"});
  CHECK(ok_out(bus, {"count", "b"}) == "3\n");
  CHECK(ok_out(bus, {"get-size", "b"}) == "3\n");
}

TEST_CASE("check-capacity exits 0 while there is room and 1 when the inbox is full") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "2";
  ok_out(bus, {"send", "a", "b", "t", "x"});
  auto r = bus.run({"check-capacity", "b"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  ok_out(bus, {"send", "a", "b", "t", "x"});
  r = bus.run({"check-capacity", "b"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.empty());
}

TEST_CASE("check-capacity of an inbox that does not exist says there is room") {
  bus_fixture bus;
  CHECK(bus.run({"check-capacity", "ghost"}).exit_code == 0);
}

TEST_CASE("get-utilization prints size times 100 over capacity as an integer, rounded down") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "3";
  CHECK(ok_out(bus, {"get-utilization", "b"}) == "0\n");
  ok_out(bus, {"send", "a", "b", "t", "x"});
  CHECK(ok_out(bus, {"get-utilization", "b"}) == "33\n");
  ok_out(bus, {"send", "a", "b", "t", "x"});
  ok_out(bus, {"send", "a", "b", "t", "x"});
  CHECK(ok_out(bus, {"get-utilization", "b"}) == "100\n");
}

TEST_CASE("get-stats lists every inbox sorted by agent with its size, capacity and counters") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "4";
  ok_out(bus, {"init", "zed"});
  for (int i = 0; i < 3; ++i) ok_out(bus, {"send", "a", "mid", "t", "x"});
  ok_out(bus, {"recv", "mid", "--max", "1"});
  const auto stats = parse_json(ok_out(bus, {"get-stats"}));
  REQUIRE(stats.is_array());
  REQUIRE(stats.size() == 2);
  const auto& mid = stats[0];
  CHECK(mid.at("agent") == "mid");
  CHECK(mid.at("size") == 2);
  CHECK(mid.at("utilization") == 50);
  CHECK(mid.at("max_size") == 4);
  CHECK(mid.at("enqueued") == 3);
  CHECK(mid.at("dequeued") == 1);
  CHECK(mid.at("rejected_full") == 0);
  CHECK(mid.at("breaker") == "closed");
  CHECK(stats[1].at("agent") == "zed");
  CHECK(stats[1].at("size") == 0);
}

TEST_CASE("get-stats of a bus that does not exist prints an empty array") {
  bus_fixture bus;
  CHECK(ok_out(bus, {"get-stats"}) == "[]\n");
}

TEST_CASE("read-only verbs on a missing inbox answer zero and create nothing") {
  bus_fixture bus;
  CHECK(ok_out(bus, {"count", "ghost"}) == "0\n");
  CHECK(ok_out(bus, {"get-utilization", "ghost"}) == "0\n");
  CHECK_FALSE(fs::exists(bus.dir()));
}
