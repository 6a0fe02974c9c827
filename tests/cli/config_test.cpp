// Where each setting comes from: flag > the load monitor's live setting (bus.ctl) >
// environment > sluice.toml > default, shown by `sluice config`.
#include <fstream>

#include "support/cli_checks.hpp"

using namespace sluice::test;

namespace {

nlohmann::json config_of(const bus_fixture& bus) {
  return parse_json(ok_out(bus, {"config", "--json"}));
}

nlohmann::json setting(const nlohmann::json& c, const std::string& key) {
  for (const auto& s : c.at("settings"))
    if (s.at("key") == key) return s;
  FAIL("no setting " << key);
  return {};
}

}  // namespace

TEST_CASE(
    "BACKPRESSURE_WAIT_MS in a sender's environment holds after another process created "
    "bus.ctl") {
  bus_fixture bus;
  bus.env["BACKPRESSURE_WAIT_MS"] = "100";
  ok_out(bus, {"init-system"});  // bus.ctl, made by a process configured with 100 ms
  bus.env["BACKPRESSURE_WAIT_MS"] = "7";
  const auto c = config_of(bus);
  CHECK(c["in_force"]["backpressure_wait_ms"]["value"] == 7);
  CHECK(c["in_force"]["backpressure_wait_ms"]["source"] == "env BACKPRESSURE_WAIT_MS");
}

TEST_CASE("the environment beats sluice.toml, which beats the default, for every knob shown") {
  bus_fixture bus;
  ok_out(bus, {"init-system"});
  {
    std::ofstream toml(bus.dir() / "sluice.toml");
    toml << "[inbox]\nmax_size = 300\nslot_size = 1024\n";
  }
  bus.env["MAX_INBOX_SIZE"] = "200";
  const auto c = config_of(bus);
  CHECK(setting(c, "inbox.max_size")["value"] == "200");
  CHECK(setting(c, "inbox.max_size")["source"] == "env MAX_INBOX_SIZE");
  CHECK(setting(c, "inbox.slot_size")["value"] == "1024");
  CHECK(setting(c, "inbox.slot_size")["source"].get<std::string>().find("sluice.toml") !=
        std::string::npos);
  CHECK(setting(c, "inbox.critical_reserve")["source"] == "default");
}

TEST_CASE("apply-rate-limit's setting is in force for every sender and says where it came from") {
  bus_fixture bus;
  ok_out(bus, {"apply-rate-limit", "--load-source", "loadavg"});
  bus.env["BACKPRESSURE_WAIT_MS"] = "7";
  const auto c = config_of(bus);
  CHECK(c["in_force"]["backpressure_wait_ms"]["source"].get<std::string>().find(
            "apply-rate-limit") != std::string::npos);
}
