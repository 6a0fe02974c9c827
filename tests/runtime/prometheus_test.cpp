#include "runtime/prometheus.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/atomic_file.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::runtime;
using sluice::test::temp_dir;
namespace fs = std::filesystem;

namespace {

std::vector<prom_sample> every_family() {
  std::vector<prom_sample> s;
  for (const char* agent : {"w1", "w2"}) {
    s.push_back({&prom::inbox_messages, {{"agent", agent}}, 12});
    s.push_back({&prom::inbox_capacity, {{"agent", agent}}, 1000});
    s.push_back({&prom::inbox_utilization_ratio, {{"agent", agent}}, 0.012});
    s.push_back({&prom::messages_enqueued_total, {{"agent", agent}}, 123456789});
    s.push_back({&prom::messages_dequeued_total, {{"agent", agent}}, 123456777});
    s.push_back({&prom::send_rejected_full_total, {{"agent", agent}}, 0});
    s.push_back({&prom::backpressure_waits_total, {{"agent", agent}}, 3});
    s.push_back({&prom::circuit_breaker_state, {{"agent", agent}}, 0});
  }
  s.push_back({&prom::load_per_cpu, {}, 0.37});
  s.push_back({&prom::batch_size, {}, 10});
  s.push_back({&prom::inbox_messages, {{"agent", "odd \"name\" \\ with\nnewline"}}, 1});
  return s;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("each family gets one HELP and one TYPE line, with its samples grouped under it") {
  const std::string text = render_prometheus(every_family());
  const auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  };
  CHECK(count("# HELP sluice_inbox_messages ") == 1);
  CHECK(count("# TYPE sluice_inbox_messages gauge\n") == 1);
  CHECK(count("# TYPE sluice_messages_enqueued_total counter\n") == 1);
  CHECK(text.find("sluice_inbox_messages{agent=\"w1\"} 12\n") != std::string::npos);
  CHECK(text.find("sluice_messages_enqueued_total{agent=\"w2\"} 123456789\n") != std::string::npos);
  CHECK(text.find("sluice_inbox_utilization_ratio{agent=\"w1\"} 0.012\n") != std::string::npos);
  CHECK(text.find("sluice_load_per_cpu_ratio 0.37\n") != std::string::npos);
  // The late odd sample joins its family's block instead of repeating the header.
  CHECK(text.find("sluice_inbox_messages{agent=\"odd \\\"name\\\" \\\\ with\\nnewline\"} 1\n") <
        text.find("# HELP sluice_inbox_capacity"));
}

TEST_CASE("special values render as Prometheus spells them") {
  const std::string text = render_prometheus({{&prom::load_per_cpu, {}, std::nan("")},
                                              {&prom::load_per_cpu, {{"k", "inf"}}, HUGE_VAL},
                                              {&prom::load_per_cpu, {{"k", "ninf"}}, -HUGE_VAL}});
  CHECK(text.find("sluice_load_per_cpu_ratio NaN\n") != std::string::npos);
  CHECK(text.find("sluice_load_per_cpu_ratio{k=\"inf\"} +Inf\n") != std::string::npos);
  CHECK(text.find("sluice_load_per_cpu_ratio{k=\"ninf\"} -Inf\n") != std::string::npos);
}

TEST_CASE("metrics.prom is replaced atomically and leaves no temp file") {
  temp_dir tmp;
  const fs::path file = tmp.path() / "metrics.prom";
  REQUIRE(write_file_atomically(file, "old\n"));
  REQUIRE(write_file_atomically(file, render_prometheus(every_family())));
  CHECK(slurp(file) == render_prometheus(every_family()));
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
  auto failed = write_file_atomically(tmp.path() / "no-such-dir" / "metrics.prom", "x");
  REQUIRE_FALSE(failed);
  CHECK(failed.err().message.find("no-such-dir") != std::string::npos);
}

TEST_CASE("the rendered exposition passes promtool check metrics") {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    SLUICE_SKIP("promtool not installed (Debian package prometheus): exposition not validated");
  temp_dir tmp;
  const fs::path file = tmp.path() / "metrics.prom";
  REQUIRE(write_file_atomically(file, render_prometheus(every_family())));
  const fs::path report = tmp.path() / "promtool.out";
  const std::string cmd =
      "promtool check metrics < '" + file.string() + "' > '" + report.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  INFO(slurp(report));
  CHECK(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 0);
  CHECK(slurp(report).empty());  // no lint warnings either
}

TEST_CASE("threads rewriting metrics.prom at once always leave one complete version") {
  temp_dir tmp;
  const fs::path file = tmp.path() / "metrics.prom";
  std::vector<std::string> versions;
  for (int t = 0; t < 4; ++t) {
    versions.push_back(
        render_prometheus({{&prom::batch_size, {{"writer", std::to_string(t)}}, 5.0 + t}}) +
        std::string(20000, '#') + "\n");
  }
  std::atomic<int> failed{0};  // Catch2 assertions are not thread-safe: count, check after
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) failed += write_file_atomically(file, versions[t]) ? 0 : 1;
    });
  }
  for (auto& th : pool) th.join();
  CHECK(failed == 0);
  const std::string final_text = slurp(file);
  CHECK(std::find(versions.begin(), versions.end(), final_text) != versions.end());
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}
