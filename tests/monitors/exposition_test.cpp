// metrics.prom as the monitors render it: here the bridge links, read from the status files a
// bridge writes (runtime/bridge_status.hpp), one series per link and figure, labelled by peer.
#include "monitors/exposition.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

#include "runtime/bridge_status.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;

namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE(
    "metrics.prom shows every bridge link of the bus: up, credits, in flight, held and its "
    "counters, labelled by peer") {
  test::temp_dir tmp;
  const auto bus = tmp.path() / "west";
  std::filesystem::create_directories(bus);
  runtime::bridge_link_status east;
  east.peer = "east";
  east.name = "west";
  east.state = "connected";
  east.outbound = "bridge-east";
  east.credits = 900;
  east.in_flight = 12;
  east.held = 3;
  east.sent = 5000;
  east.resent = 7;
  east.acked = 4988;
  east.received = 42;
  east.duplicates = 1;
  east.undeliverable = 2;
  east.connects = 2;
  REQUIRE(runtime::write_bridge_status(bus, east));
  auto north = east;
  north.peer = "north";
  north.outbound = "bridge-north";
  north.state = "backoff";
  north.sent = 9;
  REQUIRE(runtime::write_bridge_status(bus, north));

  const auto text = monitors::render_bus_metrics(bus);
  CHECK(has(text, "sluice_bridge_link_up{bus=\"west\",peer=\"east\"} 1"));
  CHECK(has(text, "sluice_bridge_link_up{bus=\"west\",peer=\"north\"} 0"));
  CHECK(has(text, "sluice_bridge_credits{bus=\"west\",peer=\"east\"} 900"));
  CHECK(has(text, "sluice_bridge_in_flight_messages{bus=\"west\",peer=\"east\"} 12"));
  CHECK(has(text, "sluice_bridge_held_messages{bus=\"west\",peer=\"east\"} 3"));
  CHECK(has(text, "sluice_bridge_sent_messages_total{bus=\"west\",peer=\"east\"} 5000"));
  CHECK(has(text, "sluice_bridge_sent_messages_total{bus=\"west\",peer=\"north\"} 9"));
  CHECK(has(text, "sluice_bridge_resent_messages_total{bus=\"west\",peer=\"east\"} 7"));
  CHECK(has(text, "sluice_bridge_acked_messages_total{bus=\"west\",peer=\"east\"} 4988"));
  CHECK(has(text, "sluice_bridge_received_messages_total{bus=\"west\",peer=\"east\"} 42"));
  CHECK(has(text, "sluice_bridge_duplicate_messages_total{bus=\"west\",peer=\"east\"} 1"));
  CHECK(has(text, "sluice_bridge_undeliverable_messages_total{bus=\"west\",peer=\"east\"} 2"));
  CHECK(has(text, "sluice_bridge_connects_total{bus=\"west\",peer=\"east\"} 2"));
  CHECK(has(text, "# TYPE sluice_bridge_sent_messages_total counter"));
  CHECK(has(text, "# TYPE sluice_bridge_credits gauge"));

  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    SLUICE_SKIP("promtool not installed (Debian package prometheus): format not validated");
  const auto file = tmp.path() / "metrics.prom";
  std::ofstream(file) << text;
  const auto cmd = "promtool check metrics < '" + file.string() + "' >&2";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("a bus without a bridge has no bridge series") {
  test::temp_dir tmp;
  const auto text = monitors::render_bus_metrics(tmp.path());
  CHECK(text.find("sluice_bridge_") == std::string::npos);
}
