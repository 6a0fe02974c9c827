// The report in a real browser: headless Chromium lays out the page of a short run (0.3 s, two
// sinks, three lanes) and of a long one (ten minutes, ten sinks, three repetitions), and a
// script run on a copy of each page (the report itself has none) measures every chart label:
// none reaches past its chart's edges and none overlaps another. Screenshots of both pages are
// kept in the build tree (tests/actors/loadtest/screenshots/) for people to look at. Labelled
// stress: each browser start takes seconds.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "actors/loadtest/report/report.hpp"
#include "loadtest_sample.hpp"
#include "support/find_program.hpp"
#include "support/process.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace sluice::actors;
using namespace sluice::test;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reports, for every <svg>, each <text> whose box leaves the chart and each pair of <text>
// boxes that overlap, as JSON in <pre id="layout-check">.
const char* const layout_check = R"(<script>
(function () {
  const problems = [];
  let texts = 0;
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    const boxes = [...svg.querySelectorAll('text')].map(t => ({ t: t.textContent, r: t.getBoundingClientRect() }));
    texts += boxes.length;
    for (const b of boxes) {
      const r = b.r;
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
        problems.push(svg.id + ': "' + b.t + '" reaches past the chart');
    }
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, c = boxes[j].r;
        if (a.left < c.right - 0.5 && c.left < a.right - 0.5 && a.top < c.bottom - 0.5 && c.top < a.bottom - 0.5)
          problems.push(svg.id + ': "' + boxes[i].t + '" overlaps "' + boxes[j].t + '"');
      }
  }
  const pre = document.createElement('pre');
  pre.id = 'layout-check';
  pre.textContent = JSON.stringify({ charts: document.querySelectorAll('svg').length, texts: texts, problems: problems });
  document.body.appendChild(pre);
})();
</script>
)";

std::vector<std::string> chromium(const std::string& exe, const fs::path& profile) {
  return {exe,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--hide-scrollbars",
          "--user-data-dir=" + profile.string()};
}

run_result run_browser(std::vector<std::string> argv) {
  env_map env;
  for (const char* name : {"PATH", "HOME"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  process p{{std::move(argv), env}};
  // A browser start on a busy two-core machine can take a while; this bounds a hang.
  return p.finish({}, std::chrono::minutes(3));
}

fs::path screenshot_dir() {
  fs::path dir = SLUICE_SCREENSHOT_DIR;
  fs::create_directories(dir);
  return dir;
}

void check_page(const loadtest_result& r, const nlohmann::json& doc, const std::string& name,
                int height) {
  const std::string exe = find_program("chromium");
  if (exe.empty()) SLUICE_SKIP("chromium is not installed (scripts/setup.sh --with-tests)");
  temp_dir dir;
  write_report(dir.path(), r, doc);
  for (const char* file : {"index.html", "result.json", "latency.hgrm", "service-time.hgrm"}) {
    INFO(file);
    CHECK(fs::file_size(dir.path() / file) > 0);
  }
  std::string page = slurp(dir.path() / "index.html");
  page.insert(page.rfind("</body>"), layout_check);
  std::ofstream(dir.path() / "check.html") << page;

  auto dump = chromium(exe, dir.path() / "profile-dom");
  dump.push_back("--window-size=900," + std::to_string(height));
  dump.push_back("--dump-dom");
  dump.push_back("file://" + (dir.path() / "check.html").string());
  const auto dom = run_browser(dump);
  if (dom.exit_code != 0) FAIL("chromium --dump-dom failed: " << dom.err);
  const auto start = dom.out.find("<pre id=\"layout-check\">");
  REQUIRE(start != std::string::npos);
  const auto body = dom.out.substr(start + 23, dom.out.find("</pre>", start) - start - 23);
  std::string text;  // the DOM escapes &, < and > inside <pre>; quotes stay as they are
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body.compare(i, 5, "&amp;") == 0) {
      text += '&';
      i += 4;
    } else if (body.compare(i, 4, "&lt;") == 0) {
      text += '<';
      i += 3;
    } else if (body.compare(i, 4, "&gt;") == 0) {
      text += '>';
      i += 3;
    } else
      text += body[i];
  }
  const auto check = nlohmann::json::parse(text);
  INFO(check.dump(2));
  CHECK(check["charts"].get<int>() >= 6);
  CHECK(check["texts"].get<int>() > 100);
  CHECK(check["problems"].empty());

  auto shot = chromium(exe, dir.path() / "profile-shot");
  const fs::path png = screenshot_dir() / (name + ".png");
  shot.push_back("--window-size=900," + std::to_string(height));
  shot.push_back("--screenshot=" + png.string());
  shot.push_back("file://" + (dir.path() / "index.html").string());
  const auto taken = run_browser(shot);
  if (taken.exit_code != 0) FAIL("chromium --screenshot failed: " << taken.err);
  REQUIRE(fs::file_size(png) > 10000);
  CHECK(slurp(png).substr(1, 3) == "PNG");
}

}  // namespace

TEST_CASE("a short run's report lays out in Chromium with no label cut off or overlapping") {
  const auto r = sample_result();
  check_page(r, result_document(r, sample_context(80000)), "report-short-run", 5200);
}

TEST_CASE(
    "a long repeated run's report with ten sinks lays out in Chromium with no label cut off or "
    "overlapping") {
  const auto r = long_sample_result();
  auto ctx = sample_context(400);
  ctx.config["repeat"] = 3;
  ctx.config["sinks"] = 10;
  auto doc = result_document(r, ctx);
  auto changes = compare_with_baseline(doc, doc);
  REQUIRE(changes);
  doc["baseline"] = baseline_json("old/result.json", doc, *changes);
  auto limits = parse_thresholds("p99>5ms,lost>0,throughput<100k");
  REQUIRE(limits);
  doc["thresholds"] = thresholds_json(check_thresholds(*limits, r));
  check_page(r, doc, "report-long-run", 5800);
}
