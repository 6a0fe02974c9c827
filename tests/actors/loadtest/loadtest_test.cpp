// `sluice loadtest` end to end through the real executable: sender processes (and threads)
// into several sinks lose, duplicate and reorder nothing, and the result has the documented
// shape. Labelled stress: each run starts a handful of processes and moves 20k messages.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

namespace {

void require_clean_result(const nlohmann::json& j, std::uint64_t messages) {
  INFO(j.dump());
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  std::sort(keys.begin(), keys.end());
  REQUIRE(keys == std::vector<std::string>{"backpressure_waits", "breaker_trips", "duplicated", "duration_s",
                                           "latency_us", "lost", "received", "reordered", "send_failures", "sent",
                                           "throughput_msgs_per_s"});
  for (const char* p : {"p50", "p90", "p99", "p999", "max"}) REQUIRE(j["latency_us"][p].is_number());
  REQUIRE(j["sent"] == messages);
  REQUIRE(j["received"] == messages);
  REQUIRE(j["lost"] == 0);
  REQUIRE(j["duplicated"] == 0);
  REQUIRE(j["reordered"] == 0);
  REQUIRE(j["throughput_msgs_per_s"].get<double>() > 0);
  REQUIRE(j["latency_us"]["p50"].get<double>() <= j["latency_us"]["p99"].get<double>());
  REQUIRE(j["latency_us"]["p99"].get<double>() <= j["latency_us"]["max"].get<double>());
}

}  // namespace

TEST_CASE("four sender processes into two sinks lose, duplicate and reorder nothing") {
  bus_fixture bus;
  const auto out = ok_out(bus, {"loadtest", "--senders", "4", "--sinks", "2", "--messages", "20000", "--json"});
  require_clean_result(parse_json(out), 20000);
  // The sinks are removed afterwards: a load test leaves the bus as it found it.
  REQUIRE_FALSE(fs::exists(bus.inbox_file("loadtest-sink-0")));
  REQUIRE_FALSE(fs::exists(bus.inbox_file("loadtest-sink-1")));
}

TEST_CASE("sender threads with a priority mix and random payload sizes keep per-lane order") {
  bus_fixture bus;
  const auto out = ok_out(bus, {"loadtest", "--threads", "--senders", "3", "--sinks", "2", "--messages", "9000",
                                "--priority-mix", "critical:1,high:5,normal:90,low:4", "--payload", "32-2048", "--json"});
  require_clean_result(parse_json(out), 9000);
}

TEST_CASE("a slow consumer forces backpressure and still nothing is lost") {
  bus_fixture bus;
  // Inboxes of 50 slots, 20 us per message at the sink: senders must wait for space.
  const auto r = bus.run_env({{"MAX_INBOX_SIZE", "50"}},
                             {"loadtest", "--senders", "2", "--messages", "3000", "--consumer-delay", "20us", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = parse_json(r.out);
  require_clean_result(j, 3000);
  REQUIRE(j["backpressure_waits"].get<std::uint64_t>() > 0);
}

TEST_CASE("the report directory holds the result and a page with the three charts") {
  bus_fixture bus;
  const auto dir = bus.root() / "report";
  const auto out = ok_out(bus, {"loadtest", "--senders", "2", "--messages", "2000", "--json", "--report", dir.string()});
  const auto j = parse_json(out);
  std::ifstream saved(dir / "result.json");
  REQUIRE(nlohmann::json::parse(saved) == j);
  std::ifstream page(dir / "index.html");
  std::stringstream html;
  html << page.rdbuf();
  for (const char* id : {"throughput-chart", "latency-chart", "utilization-chart"}) {
    INFO(id);
    REQUIRE(html.str().find(std::string{"id=\""} + id + "\"") != std::string::npos);
  }
}

TEST_CASE("bad loadtest flag values are bad input (65) with one line naming the flag") {
  bus_fixture bus;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"loadtest", "--messages", "many"},
           {"loadtest", "--payload", "8"},
           {"loadtest", "--priority-mix", "urgent:3"},
           {"loadtest", "--senders", "0"}}) {
    const auto r = bus.run(args);
    INFO(args.back() << ": " << r.err);
    REQUIRE(r.exit_code == 65);
    REQUIRE(is_one_line(r.err));
  }
}
