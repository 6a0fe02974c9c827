#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "runtime/alert_sink.hpp"
#include "runtime/metric_sink.hpp"
#include "runtime/timestamp.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::runtime;
using sluice::test::temp_dir;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// 2026-01-01T00:00:00.000Z plus ms milliseconds.
std::chrono::system_clock::time_point new_year(long ms = 0) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1767225600)) +
         std::chrono::milliseconds(ms);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int lines_per_writer = 150;
#else
constexpr int lines_per_writer = 500;
#endif

// Forks `writers` processes that each append lines_per_writer metric lines through their own
// sink, then waits for all of them.
void run_writers(const fs::path& file, int writers, std::uint64_t rotate_bytes) {
  sluice::test::child_group children;
  for (int w = 0; w < writers; ++w) {
    children.spawn([&, w] {
      metric_sink sink(file, rotate_bytes);
      const std::string writer = "w" + std::to_string(w);
      // A long tag makes each line bigger than a pipe's atomic write size would protect.
      const std::string padding(5000, static_cast<char>('a' + w));
      bool ok = true;
      for (int i = 0; i < lines_per_writer; ++i) {
        ok = sink.emit("test.seq", i, "count", {{"writer", writer}, {"pad", padding}}) && ok;
      }
      return ok ? 0 : 1;
    });
  }
  CHECK(children.wait_all() == std::vector<int>(static_cast<std::size_t>(writers), 0));
}

}  // namespace

TEST_CASE("timestamps are UTC with milliseconds, as the seed writes them") {
  CHECK(iso8601_ms(new_year()) == "2026-01-01T00:00:00.000Z");
  CHECK(iso8601_ms(new_year(86400000 + 3723004)) == "2026-01-02T01:02:03.004Z");
  CHECK(iso8601_ms(std::chrono::system_clock::time_point(std::chrono::milliseconds(-1))) ==
        "1969-12-31T23:59:59.999Z");
}

TEST_CASE("a metric line is byte-for-byte the seed format") {
  temp_dir tmp;
  metric_sink sink(tmp.path() / "metrics.jsonl");
  REQUIRE(sink.emit_at(new_year(), "inbox.size", 12, "count", {{"agent", "w1"}}));
  REQUIRE(sink.emit_at(new_year(), "inbox.utilization", 85.5, "percent", {{"agent", "w1"}}));
  REQUIRE(sink.emit_at(new_year(), "system.load_per_cpu", 0.25, "percent"));
  const auto lines = lines_of(tmp.path() / "metrics.jsonl");
  REQUIRE(lines.size() == 3);
  CHECK(
      lines[0] ==
      R"({"timestamp":"2026-01-01T00:00:00.000Z","metric":"inbox.size","value":12,"unit":"count","tags":{"agent":"w1"}})");
  CHECK(
      lines[1] ==
      R"({"timestamp":"2026-01-01T00:00:00.000Z","metric":"inbox.utilization","value":85.5,"unit":"percent","tags":{"agent":"w1"}})");
  CHECK(
      lines[2] ==
      R"({"timestamp":"2026-01-01T00:00:00.000Z","metric":"system.load_per_cpu","value":0.25,"unit":"percent","tags":{}})");
  CHECK(sink.failures() == 0);
}

TEST_CASE("an alert line is the seed format with its metadata object") {
  temp_dir tmp;
  alert_sink sink(tmp.path() / "alerts.jsonl");
  nlohmann::json meta{{"from", "a"}, {"to", "b"}, {"retries", 50}, {"max_size", 1000}};
  REQUIRE(sink.emit_at(new_year(), "inbox_overflow", severity::critical, alert_state::firing,
                       "Inbox b full, send from a failed after 50 retries", meta));
  REQUIRE(sink.emit_at(new_year(1), "inbox_high_utilization", severity::warning,
                       alert_state::resolved, "quote \" and newline \n survive", nullptr));
  const auto lines = lines_of(tmp.path() / "alerts.jsonl");
  REQUIRE(lines.size() == 2);
  CHECK(
      lines[0] ==
      R"({"timestamp":"2026-01-01T00:00:00.000Z","type":"inbox_overflow","severity":"critical","state":"firing","message":"Inbox b full, send from a failed after 50 retries","metadata":{"from":"a","max_size":1000,"retries":50,"to":"b"}})");
  const auto second = nlohmann::json::parse(lines[1]);
  CHECK(second["message"] == "quote \" and newline \n survive");
  CHECK(second["metadata"] == nlohmann::json::object());
  CHECK(second["state"] == "resolved");
  CHECK(second["severity"] == "warning");
}

TEST_CASE("a sink that cannot write counts the failure and does not throw") {
  temp_dir tmp;
  metric_sink sink(tmp.path() / "missing-dir" / "metrics.jsonl");
  CHECK_FALSE(sink.emit("inbox.size", 1, "count"));
  CHECK_FALSE(sink.emit("inbox.size", 2, "count"));
  CHECK(sink.failures() == 2);
}

TEST_CASE("concurrent writers in several processes produce only whole lines") {
  temp_dir tmp;
  const fs::path file = tmp.path() / "metrics.jsonl";
  constexpr int writers = 6;
  run_writers(file, writers, default_rotate_bytes);

  std::map<std::string, int> next;  // per writer, the next sequence number expected
  const auto lines = lines_of(file);
  CHECK(lines.size() == writers * lines_per_writer);
  for (const auto& line : lines) {
    const auto j = nlohmann::json::parse(line);  // throws (fails the test) on a torn line
    const std::string w = j["tags"]["writer"];
    CHECK(j["value"].get<int>() == next[w]++);  // each writer's lines in its own order
  }
  for (int w = 0; w < writers; ++w) CHECK(next["w" + std::to_string(w)] == lines_per_writer);
}

TEST_CASE("rotation under concurrent writers keeps every surviving line whole") {
  temp_dir tmp;
  const fs::path file = tmp.path() / "metrics.jsonl";
  constexpr std::uint64_t limit = 256 * 1024;
  run_writers(file, 4, limit);

  REQUIRE(fs::exists(fs::path(file.string() + ".1")));
  // The live file stays near the limit: at most a line from each writer that was between
  // its size check and its write when another writer rotated.
  CHECK(fs::file_size(file) <= limit + 4 * 6000);
  std::size_t total = 0;
  for (const auto& p : {file, fs::path(file.string() + ".1")}) {
    for (const auto& line : lines_of(p)) {
      const auto j = nlohmann::json::parse(line);
      CHECK(j["metric"] == "test.seq");
      ++total;
    }
  }
  CHECK(total > 0);
}

TEST_CASE("a single-process sink rotates to .1 at the size limit and keeps writing") {
  temp_dir tmp;
  const fs::path file = tmp.path() / "alerts.jsonl";
  alert_sink sink(file, 1000);
  for (int i = 0; i < 30; ++i) {
    REQUIRE(sink.emit("inbox_overflow", severity::critical, alert_state::firing, "m",
                      nlohmann::json{{"i", i}}));
  }
  const auto live = lines_of(file);
  const auto old = lines_of(file.string() + ".1");
  REQUIRE_FALSE(live.empty());
  REQUIRE_FALSE(old.empty());
  CHECK(fs::file_size(file) <= 1000);
  // The newest line is in the live file and .1 holds the lines just before it.
  CHECK(nlohmann::json::parse(live.back())["metadata"]["i"] == 29);
  CHECK(nlohmann::json::parse(old.back())["metadata"]["i"].get<int>() + 1 ==
        nlohmann::json::parse(live.front())["metadata"]["i"].get<int>());
}

TEST_CASE("one sink shared by several threads writes only whole lines") {
  temp_dir tmp;
  const fs::path file = tmp.path() / "metrics.jsonl";
  metric_sink sink(file, 64 * 1024);
  constexpr int threads = 4;
  constexpr int per_thread = 300;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&sink, t] {
      const std::string name = "t" + std::to_string(t);
      for (int i = 0; i < per_thread; ++i)
        (void)sink.emit("test.seq", i, "count", {{"thread", name}});
    });
  }
  for (auto& th : pool) th.join();
  CHECK(sink.failures() == 0);
  std::size_t total = 0;
  for (const auto& p : {file, fs::path(file.string() + ".1")}) {
    for (const auto& line : lines_of(p)) {
      CHECK(nlohmann::json::parse(line)["metric"] == "test.seq");
      ++total;
    }
  }
  CHECK(total > 0);
}
