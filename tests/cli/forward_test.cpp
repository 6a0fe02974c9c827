// The actor verbs (launch, monitor-*, apply-rate-limit, loadtest, bridge) run in
// sluice-actors; `sluice` lists them and execs sluice-actors with the unchanged argv
// (cli/forward.hpp). These tests go through the real `sluice`, as a user would.
#include <map>
#include <sstream>

#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

namespace {

bool mentions(const std::string& text, const std::string& word) {
  return text.find(word) != std::string::npos;
}

// The "Subcommands:" section of a CLI11 help text: verb (with aliases) -> description.
std::map<std::string, std::string> verbs_in_help(const std::string& help) {
  std::map<std::string, std::string> verbs;
  std::istringstream lines(help);
  std::string line;
  bool in_section = false;
  while (std::getline(lines, line)) {
    if (line == "Subcommands:") {
      in_section = true;
      continue;
    }
    if (!in_section) continue;
    if (line.rfind("  ", 0) != 0) break;  // the blank line (or footer) after the section
    const auto start = line.find_first_not_of(' ');
    const auto gap = line.find("  ", start);
    if (gap == std::string::npos) {
      verbs[line.substr(start)] = "";
      continue;
    }
    const auto text = line.find_first_not_of(' ', gap);
    verbs[line.substr(start, gap - start)] = text == std::string::npos ? "" : line.substr(text);
  }
  return verbs;
}

run_result run_actors(const bus_fixture& bus, const std::vector<std::string>& args) {
  auto o = bus.options_for(args);
  o.argv.front() = sluice_actors_path();
  process p(o);
  return p.finish();
}

}  // namespace

TEST_CASE("sluice --help lists every verb of sluice-actors with the same description") {
  bus_fixture bus;
  const auto lean = bus.run({"--help"});
  REQUIRE(lean.exit_code == 0);
  const auto actors = run_actors(bus, {"--help"});
  REQUIRE(actors.exit_code == 0);
  const auto listed = verbs_in_help(lean.out);
  const auto actor_verbs = verbs_in_help(actors.out);
  REQUIRE(actor_verbs.size() >= 5);
  for (const auto& [verb, description] : actor_verbs) {
    INFO("sluice-actors verb: " << verb);
    REQUIRE(listed.count(verb) == 1);
    CHECK(listed.at(verb) == description);
  }
  // The one-shot verbs are still there too.
  CHECK(listed.count("send") == 1);
  CHECK(listed.count("top") == 1);
}

TEST_CASE("every verb sluice forwards exists in sluice-actors and prints its real help") {
  bus_fixture bus;
  const std::map<std::string, std::vector<std::string>> options = {
      {"launch", {"manifest", "--keep", "--grace"}},
      {"monitor-overflow", {"interval", "--cooldown", "--http"}},
      {"monitor-rate-limit", {"interval", "--load-source", "--band"}},
      {"apply-rate-limit", {"--load-source"}},
      {"loadtest", {"--senders", "--messages", "--report"}},
  };
  const auto actor_verbs = verbs_in_help(run_actors(bus, {"--help"}).out);
  for (const auto& [verb, description] : verbs_in_help(bus.run({"--help"}).out)) {
    if (actor_verbs.count(verb) == 0) continue;  // a one-shot verb
    INFO(verb);
    const auto r = bus.run({verb, "--help"});
    CHECK(r.exit_code == 0);
    CHECK(mentions(r.out, "Usage: sluice " + verb));
    CHECK(mentions(r.out, description));
    if (options.count(verb) == 0) continue;
    for (const auto& option : options.at(verb)) CHECK(mentions(r.out, option));
  }
}

TEST_CASE("sluice launch --help and sluice top --help exit 0 and show their real options") {
  bus_fixture bus;
  const auto launch = bus.run({"launch", "--help"});
  CHECK(launch.exit_code == 0);
  CHECK(mentions(launch.out, "Usage: sluice launch [OPTIONS] manifest"));
  CHECK(mentions(launch.out, "--grace"));
  CHECK(mentions(launch.out, "--keep"));
  const auto top = bus.run({"top", "--help"});
  CHECK(top.exit_code == 0);
  CHECK(mentions(top.out, "--once"));
  CHECK(mentions(top.out, "--interval"));
}

TEST_CASE("global flags before or after a forwarded verb reach sluice-actors") {
  bus_fixture bus;
  const fs::path before = bus.root() / "before";
  const fs::path after = bus.root() / "after";
  auto r = bus.run({"--dir", before.string(), "apply-rate-limit", "--load-source", "loadavg"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["source"] == "loadavg");
  r = bus.run({"apply-rate-limit", "--load-source", "loadavg", "--dir", after.string(), "--group"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(before / "bus.ctl"));
  CHECK(fs::exists(after / "bus.ctl"));
  CHECK_FALSE(fs::exists(bus.dir()));  // SLUICE_DIR lost to --dir both times
}

TEST_CASE("a forwarded verb's usage error comes from sluice-actors as one line with exit 64") {
  bus_fixture bus;
  auto r = bus.run({"launch"});
  CHECK(r.exit_code == 64);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "manifest"));
  CHECK(mentions(r.err, "sluice launch --help"));
  r = bus.run({"monitor-overflow", "--frobnicate"});
  CHECK(r.exit_code == 64);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "--frobnicate"));
}

TEST_CASE("a forwarded verb without sluice-actors next to sluice exits 69 with one line") {
  bus_fixture bus;
  const fs::path alone = bus.root() / "alone";
  fs::create_directories(alone);
  fs::copy_file(sluice_path(), alone / "sluice");
  auto o = bus.options_for({"launch", "--help"});
  o.argv.front() = (alone / "sluice").string();
  process p(o);
  const auto r = p.finish();
  CHECK(r.exit_code == 69);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, (alone / "sluice-actors").string()));
  CHECK(mentions(r.err, "install it next to this sluice"));
  CHECK(r.out.empty());

  // The one-shot verbs do not need it.
  auto count = bus.options_for({"count", "b"});
  count.argv.front() = (alone / "sluice").string();
  process c(count);
  const auto counted = c.finish();
  CHECK(counted.exit_code == 0);
  CHECK(counted.out == "0\n");
}
