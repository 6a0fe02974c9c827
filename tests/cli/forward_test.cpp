// The actor verbs (launch, monitor-*, apply-rate-limit, loadtest, bridge) run in their
// feature's executable (sluice-launch, sluice-monitors, ...); `sluice` lists them and execs
// the verb's executable with the unchanged argv (runtime/cli/forward.hpp). These tests go
// through the real `sluice`, as a user would.
#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "runtime/cli/actor_verbs.hpp"
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

run_result run_executable(const bus_fixture& bus, const std::string& executable,
                          const std::vector<std::string>& args) {
  auto o = bus.options_for(args);
  o.argv.front() = sluice_executable_path(executable);
  process p(o);
  return p.finish();
}

// The executables of the verb table, each once.
std::set<std::string> actor_executables() {
  std::set<std::string> names;
  for (const auto& verb : sluice::cli::actor_verbs) names.insert(verb.executable);
  return names;
}

}  // namespace

TEST_CASE("sluice --help lists every verb of each actor executable with the same description") {
  bus_fixture bus;
  const auto lean = bus.run({"--help"});
  REQUIRE(lean.exit_code == 0);
  const auto listed = verbs_in_help(lean.out);
  std::size_t actor_verb_count = 0;
  for (const auto& executable : actor_executables()) {
    INFO("executable: " << executable);
    const auto own = run_executable(bus, executable, {"--help"});
    REQUIRE(own.exit_code == 0);
    for (const auto& [verb, description] : verbs_in_help(own.out)) {
      INFO("verb: " << verb);
      REQUIRE(listed.count(verb) == 1);
      CHECK(listed.at(verb) == description);
      // The table names this executable for the verb, so sluice execs the one that has it.
      CHECK(sluice::cli::find_actor_verb(verb).executable == executable);
      ++actor_verb_count;
    }
  }
  // Every verb of the table is in exactly one executable.
  CHECK(actor_verb_count == std::size(sluice::cli::actor_verbs));
  // The one-shot verbs are still there too.
  CHECK(listed.count("send") == 1);
  CHECK(listed.count("top") == 1);
}

TEST_CASE("each actor executable has only its own feature's verbs") {
  bus_fixture bus;
  const auto launch = verbs_in_help(run_executable(bus, "sluice-launch", {"--help"}).out);
  CHECK(launch.count("launch") == 1);
  CHECK(launch.count("bridge") == 0);
  CHECK(launch.count("send") == 0);
  const auto monitors = verbs_in_help(run_executable(bus, "sluice-monitors", {"--help"}).out);
  CHECK(monitors.size() == 3);
  CHECK(monitors.count("monitor-overflow") == 1);
  CHECK(monitors.count("apply-rate-limit") == 1);
}

TEST_CASE("every verb sluice forwards exists in its executable and prints its real help") {
  bus_fixture bus;
  const std::map<std::string, std::vector<std::string>> options = {
      {"launch", {"manifest", "--keep", "--grace"}},
      {"monitor-overflow", {"interval", "--cooldown", "--http"}},
      {"monitor-rate-limit", {"interval", "--load-source", "--band"}},
      {"apply-rate-limit", {"--load-source"}},
      {"loadtest", {"--senders", "--messages", "--report"}},
  };
  std::size_t forwarded = 0;
  for (const auto& [verb, description] : verbs_in_help(bus.run({"--help"}).out)) {
    const bool actor_verb =
        std::any_of(std::begin(sluice::cli::actor_verbs), std::end(sluice::cli::actor_verbs),
                    [&verb = verb](const auto& v) { return verb == v.name; });
    if (!actor_verb) continue;  // a one-shot verb
    ++forwarded;
    INFO(verb);
    const auto r = bus.run({verb, "--help"});
    CHECK(r.exit_code == 0);
    CHECK(mentions(r.out, "Usage: sluice " + verb));
    CHECK(mentions(r.out, description));
    if (options.count(verb) == 0) continue;
    for (const auto& option : options.at(verb)) CHECK(mentions(r.out, option));
  }
  CHECK(forwarded == std::size(sluice::cli::actor_verbs));
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

TEST_CASE("global flags before or after a forwarded verb reach the verb's executable") {
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

TEST_CASE("a forwarded verb's usage error comes from its executable as one line with exit 64") {
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

TEST_CASE("a forwarded verb without its executable next to sluice exits 69 with one line") {
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
  CHECK(mentions(r.err, (alone / "sluice-launch").string()));
  CHECK(mentions(r.err, "install it next to this sluice"));
  CHECK(mentions(r.err, "--target sluice-launch"));
  CHECK(r.out.empty());

  // The one-shot verbs do not need it.
  auto count = bus.options_for({"count", "b"});
  count.argv.front() = (alone / "sluice").string();
  process c(count);
  const auto counted = c.finish();
  CHECK(counted.exit_code == 0);
  CHECK(counted.out == "0\n");
}
