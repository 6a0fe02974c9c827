// `sluice loadtest` end to end through the real executable: sender processes (and threads)
// into several sinks lose, duplicate and reorder nothing; the result matches its documented
// schema; --rate measures latency from the schedule; --repeat, --baseline and --fail-if do what
// CI needs. Labelled stress: each run starts a handful of processes and moves thousands of
// messages.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "schema_check.hpp"
#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

namespace {

double mean(const nlohmann::json& j, const char* figure) {
  return j["figures"][figure]["mean"].get<double>();
}

void require_clean_result(const nlohmann::json& j, std::uint64_t messages) {
  INFO(j.dump());
  CHECK(schema_violations(j) == "");
  CHECK(j["sluice_version"].get<std::string>().size() > 0);
  CHECK(j["machine"]["cores"].get<int>() > 0);
  CHECK(j["machine"]["cpu"].get<std::string>() != "unknown");
  REQUIRE(mean(j, "sent") == messages);
  REQUIRE(mean(j, "received") == messages);
  REQUIRE(mean(j, "lost") == 0);
  REQUIRE(mean(j, "duplicated") == 0);
  REQUIRE(mean(j, "reordered") == 0);
  REQUIRE(mean(j, "throughput_msgs_per_s") > 0);
  REQUIRE(mean(j, "latency_p50_us") <= mean(j, "latency_p99_us"));
  REQUIRE(mean(j, "latency_p99_us") <= mean(j, "latency_max_us"));
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("four sender processes into two sinks lose, duplicate and reorder nothing") {
  bus_fixture bus;
  const auto out =
      ok_out(bus, {"loadtest", "--senders", "4", "--sinks", "2", "--messages", "20000", "--json"});
  const auto j = parse_json(out);
  require_clean_result(j, 20000);
  CHECK(j["config"]["senders"] == 4);
  CHECK(j["config"]["sinks"] == 2);
  CHECK(j["config"]["sender_mode"] == "processes");
  CHECK(j["senders"].size() == 4);
  // The sinks are removed afterwards: a load test leaves the bus as it found it.
  REQUIRE_FALSE(fs::exists(bus.inbox_file("loadtest-sink-0")));
  REQUIRE_FALSE(fs::exists(bus.inbox_file("loadtest-sink-1")));
}

TEST_CASE("sender threads with a priority mix and random payload sizes keep per-lane order") {
  bus_fixture bus;
  const auto out =
      ok_out(bus, {"loadtest", "--threads", "--senders", "3", "--sinks", "2", "--messages", "9000",
                   "--priority-mix", "critical:1,high:5,normal:90,low:4", "--payload", "32-2048",
                   "--json"});
  const auto j = parse_json(out);
  require_clean_result(j, 9000);
  for (const char* lane : {"critical", "high", "normal", "low"}) {
    INFO(lane);
    CHECK(j["lanes"].contains(lane));
  }
  CHECK(j["config"]["priority_mix"]["high"] == 5);
}

TEST_CASE("a slow consumer forces backpressure and still nothing is lost") {
  bus_fixture bus;
  // Inboxes of 50 slots, 20 us per message at the sink: senders must wait for space.
  const auto r = bus.run_env(
      {{"MAX_INBOX_SIZE", "50"}},
      {"loadtest", "--senders", "2", "--messages", "3000", "--consumer-delay", "20us", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = parse_json(r.out);
  require_clean_result(j, 3000);
  REQUIRE(mean(j, "backpressure_waits") > 0);
}

TEST_CASE(
    "with a rate, a sender held up by a slow sink falls behind and latency counts from the "
    "schedule") {
  bus_fixture bus;
  // The sink takes 1 ms per message, the sender is asked for 2000 a second into 20 slots: the
  // inbox fills and the sender falls behind its schedule, whatever the machine's speed.
  const auto r = bus.run_env({{"MAX_INBOX_SIZE", "20"}},
                             {"loadtest", "--senders", "1", "--rate", "2000", "--messages", "400",
                              "--consumer-delay", "1ms", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = parse_json(r.out);
  require_clean_result(j, 400);
  CHECK(j["config"]["target_throughput_msgs_per_s"] == 2000);
  CHECK(j["senders"][0]["max_behind_schedule_us"]["mean"].get<double>() > 0);
  // Each message's latency is its service time plus how late its send began: never less, and
  // once the backlog has built up (most of the run) more.
  CHECK(mean(j, "latency_p99_us") >= mean(j, "service_time_p99_us"));
  CHECK(mean(j, "latency_max_us") >= mean(j, "service_time_max_us"));
  CHECK(mean(j, "latency_p50_us") > mean(j, "service_time_p50_us"));
}

TEST_CASE("the report directory holds the result, the page with its charts and the hgrm exports") {
  bus_fixture bus;
  const auto dir = bus.root() / "report";
  const auto out = ok_out(bus, {"loadtest", "--senders", "2", "--messages", "2000", "--json",
                                "--report", dir.string()});
  const auto j = parse_json(out);
  REQUIRE(nlohmann::json::parse(slurp(dir / "result.json")) == j);
  const auto html = slurp(dir / "index.html");
  for (const char* id : {"throughput-chart", "latency-over-time-chart", "percentile-chart",
                         "latency-chart", "utilization-chart", "sender-table"}) {
    INFO(id);
    REQUIRE(html.find(std::string{"id=\""} + id + "\"") != std::string::npos);
  }
  for (const char* file : {"latency.hgrm", "service-time.hgrm"}) {
    const auto text = slurp(dir / file);
    INFO(file);
    CHECK(text.rfind("       Value     Percentile TotalCount 1/(1-Percentile)", 0) == 0);
    CHECK(text.find("Total count    =         2000]") != std::string::npos);
  }
}

TEST_CASE(
    "a repeated run (--repeat) runs the test again and reports every figure as mean and spread") {
  bus_fixture bus;
  const auto j = parse_json(
      ok_out(bus, {"loadtest", "--senders", "2", "--messages", "2000", "--repeat", "2", "--json"}));
  CHECK(schema_violations(j) == "");
  CHECK(j["runs"] == 2);
  CHECK(j["figures"]["sent"]["values"] == nlohmann::json::array({2000, 2000}));
  CHECK(j["figures"]["latency_p99_us"]["values"].size() == 2);
  const auto text =
      ok_out(bus, {"loadtest", "--senders", "1", "--messages", "500", "--repeat", "2"});
  CHECK(text.find("2 runs: mean ± standard deviation") != std::string::npos);
  CHECK(text.find(" ± ") != std::string::npos);
}

TEST_CASE("a baseline (--baseline) prints the change of every figure against an earlier result") {
  bus_fixture bus;
  const auto dir = bus.root() / "before";
  ok_out(bus, {"loadtest", "--senders", "1", "--messages", "1000", "--report", dir.string()});
  const auto old = (dir / "result.json").string();
  const auto text =
      ok_out(bus, {"loadtest", "--senders", "1", "--messages", "1000", "--baseline", old});
  CHECK(text.find("compared with " + old) != std::string::npos);
  CHECK(text.find("latency p99") != std::string::npos);
  CHECK(text.find("->") != std::string::npos);
  const auto j = parse_json(ok_out(
      bus, {"loadtest", "--senders", "1", "--messages", "1000", "--baseline", old, "--json"}));
  CHECK(schema_violations(j) == "");
  CHECK(j["baseline"]["file"] == old);
  CHECK(j["baseline"]["figures"]["sent"]["verdict"] == "unchanged");
}

TEST_CASE(
    "thresholds (--fail-if) exit 1 with one line naming the crossed threshold, 0 when every one "
    "holds") {
  bus_fixture bus;
  const auto pass = bus.run(
      {"loadtest", "--senders", "1", "--messages", "1000", "--fail-if", "lost>0,sent<1000"});
  INFO(pass.err);
  CHECK(pass.exit_code == 0);
  const auto fail = bus.run({"loadtest", "--senders", "1", "--messages", "1000", "--fail-if",
                             "lost>0, sent<1M", "--json"});
  CHECK(fail.exit_code == 1);
  // Above it on stderr only the progress lines: the verdict is the last line, and one line.
  REQUIRE(fail.err.size() > 1);
  const auto last = fail.err.substr(fail.err.rfind('\n', fail.err.size() - 2) + 1);
  CHECK(last == "sluice: loadtest FAILED --fail-if: sent 1000 < 1000000\n");
  const auto j = parse_json(fail.out);
  REQUIRE(j["thresholds"].size() == 2);
  CHECK(j["thresholds"][0]["failed"] == false);
  CHECK(j["thresholds"][1]["failed"] == true);
}

TEST_CASE("bad loadtest flag values are bad input (65) with one line naming the flag") {
  bus_fixture bus;
  std::ofstream(bus.root() / "not-json.json") << "{";
  std::ofstream(bus.root() / "other.json") << R"({"schema":"something-else/1"})";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"loadtest", "--messages", "many"},
           {"loadtest", "--payload", "8"},
           {"loadtest", "--priority-mix", "urgent:3"},
           {"loadtest", "--senders", "0"},
           {"loadtest", "--repeat", "0"},
           {"loadtest", "--fail-if", "p99>5"},
           {"loadtest", "--fail-if", "p98>5ms"},
           {"loadtest", "--baseline", (bus.root() / "not-json.json").string()},
           {"loadtest", "--baseline", (bus.root() / "other.json").string()}}) {
    const auto r = bus.run(args);
    INFO(args.back() << ": " << r.err);
    REQUIRE(r.exit_code == 65);
    REQUIRE(is_one_line(r.err));
  }
  const auto missing = bus.run({"loadtest", "--baseline", (bus.root() / "nowhere.json").string()});
  CHECK(missing.exit_code == 66);
  CHECK(is_one_line(missing.err));
}
