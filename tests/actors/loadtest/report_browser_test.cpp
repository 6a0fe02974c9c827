// The HTML report renders in a real browser: headless Chromium takes a non-empty screenshot
// and its DOM holds the three SVG charts. Labelled stress: two browser starts take seconds.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "actors/loadtest/report.hpp"
#include "loadtest_sample.hpp"

namespace fs = std::filesystem;
using sluice::actors::loadtest_result;
using sluice::test::sample_result;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path temp_dir(const char* tag) {
  std::string tmpl = (fs::temp_directory_path() / (std::string{"sluice-"} + tag + "-XXXXXX")).string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

// Runs a program with stdout to `out` and stderr discarded; returns its exit status.
int run(const std::vector<std::string>& argv, const fs::path& out) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    FILE* o = std::freopen(out.c_str(), "w", stdout);
    FILE* e = std::freopen("/dev/null", "w", stderr);
    if (o == nullptr || e == nullptr) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> chromium(const fs::path& profile) {
  return {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + profile.string()};
}

}  // namespace

TEST_CASE("headless Chromium renders the report with its SVG charts") {
  const auto dir = temp_dir("report");
  sluice::actors::write_report(dir, sample_result(), {"sluice loadtest", "2026-01-01T00:00:00Z", "test"});
  REQUIRE(fs::exists(dir / "result.json"));
  const auto page = "file://" + (dir / "index.html").string();

  auto shot = chromium(dir / "profile-shot");
  shot.push_back("--window-size=900,1400");
  shot.push_back("--screenshot=" + (dir / "shot.png").string());
  shot.push_back(page);
  REQUIRE(run(shot, dir / "shot.log") == 0);
  REQUIRE(fs::exists(dir / "shot.png"));
  REQUIRE(fs::file_size(dir / "shot.png") > 1000);
  REQUIRE(slurp(dir / "shot.png").substr(1, 3) == "PNG");

  auto dump = chromium(dir / "profile-dom");
  dump.push_back("--dump-dom");
  dump.push_back(page);
  REQUIRE(run(dump, dir / "dom.html") == 0);
  const auto dom = slurp(dir / "dom.html");
  for (const char* id : {"throughput-chart", "latency-chart", "utilization-chart"}) {
    INFO(id);
    REQUIRE(dom.find(std::string{"<svg id=\""} + id) != std::string::npos);
  }
  REQUIRE(dom.find("<polyline") != std::string::npos);
  REQUIRE(dom.find("class=\"bar\"") != std::string::npos);
  fs::remove_all(dir);
}
