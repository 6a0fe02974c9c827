// `sluice top --once` shows one row per bridge link, read from the bridge-<peer>.json status
// files (written here directly: what top shows does not need a running bridge).
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/bridge_status.hpp"
#include "support/process.hpp"

using namespace sluice;

namespace {

// The whitespace-separated fields of the first output line that starts with `first`.
std::vector<std::string> row_of(const std::string& out, const std::string& first) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string w; words >> w;) fields.push_back(w);
    if (!fields.empty() && fields.front() == first) return fields;
  }
  return {};
}

}  // namespace

TEST_CASE(
    "sluice top shows one row per bridge link: peer, state, credits, in-flight, sent, resent") {
  test::bus_fixture bus;
  REQUIRE(bus.run({"init", "worker"}).exit_code == 0);
  runtime::bridge_link_status east;
  east.peer = "east";
  east.name = "west";
  east.state = "connected";
  east.endpoint = "127.0.0.1:7400";
  east.outbound = "bridge-east";
  east.credits = 17;
  east.in_flight = 3;
  east.sent = 1200;
  east.resent = 5;
  REQUIRE(runtime::write_bridge_status(bus.dir(), east));
  runtime::bridge_link_status north = east;
  north.peer = "north";
  north.state = "backoff";
  north.credits = 0;
  north.in_flight = 0;
  north.sent = 0;
  north.resent = 0;
  REQUIRE(runtime::write_bridge_status(bus.dir(), north));

  const auto r = bus.run({"top", "--once"});
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(row_of(r.out, "worker").size() >= 2);  // the inbox table is still there
  CHECK(row_of(r.out, "LINK") == std::vector<std::string>{"LINK", "STATE", "CREDITS", "IN-FLIGHT",
                                                          "SENT", "RESENT", "ENDPOINT"});
  CHECK(row_of(r.out, "west->east") == std::vector<std::string>{"west->east", "connected", "17",
                                                                "3", "1200", "5",
                                                                "127.0.0.1:7400"});
  CHECK(row_of(r.out, "west->north") ==
        std::vector<std::string>{"west->north", "backoff", "0", "0", "0", "0", "127.0.0.1:7400"});
}
