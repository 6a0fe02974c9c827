#include "runtime/metrics_send_observer.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using namespace sluice::runtime;
using sluice::test::temp_dir;
namespace bp = sluice::backpressure;
namespace fs = std::filesystem;

namespace {

std::vector<nlohmann::json> json_lines(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

env_lookup no_env() {
  return [](const char*) -> std::optional<std::string> { return std::nullopt; };
}

bp::send_outcome outcome(bp::send_status status, std::uint32_t waits) {
  bp::send_outcome out;
  out.status = status;
  out.waits = waits;
  out.attempts = waits + 1;
  out.waited = std::chrono::milliseconds(100) * waits;
  return out;
}

}  // namespace

TEST_CASE("a send that never waits writes no telemetry and creates no file") {
  temp_dir tmp;
  config cfg(tmp.path(), no_env(), tmp.path() / "user");
  metrics_send_observer obs(cfg);
  const bp::send_event e{"a", "b", sluice::inbox::priority::normal, 1000};
  obs.on_send_success(e, outcome(bp::send_status::sent, 0));
  CHECK_FALSE(fs::exists(tmp.path() / "metrics.jsonl"));
  CHECK_FALSE(fs::exists(tmp.path() / "alerts.jsonl"));
}

TEST_CASE("waits and a success after waiting are the seed's backpressure metrics") {
  temp_dir tmp;
  config cfg(tmp.path(), no_env(), tmp.path() / "user");
  metrics_send_observer obs(cfg);
  const bp::send_event e{"a", "b", sluice::inbox::priority::normal, 1000};
  obs.on_backpressure_wait(e, 0, std::chrono::milliseconds(40));
  obs.on_backpressure_wait(e, 1, std::chrono::milliseconds(80));
  obs.on_send_success(e, outcome(bp::send_status::sent, 2));
  const auto lines = json_lines(tmp.path() / "metrics.jsonl");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["metric"] == "backpressure.wait");
  CHECK(lines[0]["value"] == 1);
  CHECK(lines[1]["value"] == 2);
  CHECK(lines[2]["metric"] == "backpressure.send.success");
  CHECK(lines[2]["value"] == 2);
  CHECK(lines[2]["unit"] == "count");
  CHECK(lines[2]["tags"] == nlohmann::json{{"from", "a"}, {"to", "b"}});
  CHECK_FALSE(fs::exists(tmp.path() / "alerts.jsonl"));
}

TEST_CASE("a send that exhausts backpressure writes the failure metric and a critical alert") {
  temp_dir tmp;
  const fs::path metrics = tmp.path() / "custom-metrics.jsonl";
  const fs::path alerts = tmp.path() / "custom-alerts.jsonl";
  config cfg(
      tmp.path(),
      [&](const char* name) -> std::optional<std::string> {
        if (std::string(name) == "METRICS_FILE") return metrics.string();
        if (std::string(name) == "ALERT_LOG_FILE") return alerts.string();
        return std::nullopt;
      },
      tmp.path() / "user");
  metrics_send_observer obs(cfg);
  const bp::send_event e{"producer", "slow", sluice::inbox::priority::normal, 1000};
  obs.on_send_failure(e, outcome(bp::send_status::timed_out, 50));

  const auto m = json_lines(metrics);
  REQUIRE(m.size() == 1);
  CHECK(m[0]["metric"] == "backpressure.send.failure");
  CHECK(m[0]["value"] == 50);
  const auto a = json_lines(alerts);
  REQUIRE(a.size() == 1);
  CHECK(a[0]["type"] == "inbox_overflow");
  CHECK(a[0]["severity"] == "critical");
  CHECK(a[0]["state"] == "firing");
  CHECK(a[0]["metadata"]["from"] == "producer");
  CHECK(a[0]["metadata"]["to"] == "slow");
  CHECK(a[0]["metadata"]["retries"] == 50);
  CHECK(a[0]["metadata"]["max_size"] == 1000);
  CHECK(a[0]["metadata"]["waited_ms"] == 5000);
}

TEST_CASE("an invalid METRICS_FILE disables telemetry without failing the send") {
  temp_dir tmp;
  config cfg(
      tmp.path(),
      [](const char* name) -> std::optional<std::string> {
        if (std::string(name) == "METRICS_FILE") return std::string();
        return std::nullopt;
      },
      tmp.path() / "user");
  metrics_send_observer obs(cfg);
  const bp::send_event e{"a", "b", sluice::inbox::priority::normal, 1000};
  obs.on_backpressure_wait(e, 0, std::chrono::milliseconds(1));
  obs.on_send_failure(e, outcome(bp::send_status::timed_out, 1));
  CHECK_FALSE(fs::exists(tmp.path() / "metrics.jsonl"));
  CHECK(json_lines(tmp.path() / "alerts.jsonl").size() == 1);  // the alert file still works
}
