// One exit-code map for every verb (runtime/exit_codes.hpp, README "Exit codes"): each verb is
// driven with each kind of error that applies to it, and answers with the same code and one
// line on stderr.
#include <unistd.h>

#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

namespace {

struct verb_case {
  std::vector<std::string> args;  // a valid call of the verb on agent "w" (or on the bus)
  bool names_an_agent;            // args[1] is an agent name the verb checks
  bool opens_the_bus;             // it reads or creates something in the bus directory
};

// Every verb, called the way a script would. Verbs that run for ever get a short life.
const std::vector<verb_case>& cases() {
  static const std::vector<verb_case> all = {
      {{"init", "w"}, true, true},
      {{"init-system"}, false, true},
      {{"cleanup", "w"}, true, true},
      {{"cleanup-system"}, false, true},
      {{"send", "w", "w", "t", "x"}, true, true},
      {{"send-backpressure", "w", "w", "t", "x"}, true, true},
      {{"recv", "w"}, true, true},
      {{"peek", "w"}, true, true},
      {{"clear", "w"}, true, true},
      {{"count", "w"}, true, true},
      {{"check-capacity", "w"}, true, true},
      {{"get-utilization", "w"}, true, true},
      {{"get-stats"}, false, true},
      {{"doctor"}, false, true},
      {{"top", "--once"}, false, true},
      {{"config"}, false, false},
      {{"apply-rate-limit", "--load-source", "loadavg"}, false, true},
      {{"loadtest", "--messages", "10"}, false, true},
  };
  return all;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += a + " ";
  return s;
}

}  // namespace

TEST_CASE("every verb answers an unknown flag with 64 (usage) in one line") {
  bus_fixture bus;
  for (const auto& c : cases()) {
    auto args = c.args;
    args.push_back("--no-such-flag");
    const auto r = bus.run(args);
    INFO(joined(args) << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(is_one_line(r.err));
  }
  for (const char* actor_verb : {"launch", "monitor-overflow", "monitor-rate-limit", "bridge"}) {
    const auto r = bus.run({actor_verb, "--no-such-flag"});
    INFO(actor_verb << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(is_one_line(r.err));
  }
}

TEST_CASE("every verb that names an agent answers an invalid name with 65 (bad input)") {
  bus_fixture bus;
  for (const auto& c : cases()) {
    if (!c.names_an_agent) continue;
    auto args = c.args;
    args[1] = "no/slashes";
    const auto r = bus.run(args);
    INFO(joined(args) << ": " << r.err);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
  }
}

TEST_CASE("every verb that opens the bus answers a symlinked bus directory with 77") {
  bus_fixture bus;
  const fs::path real = bus.root() / "real";
  fs::create_directory(real);
  const fs::path link = bus.root() / "link";
  fs::create_directory_symlink(real, link);
  bus.env["SLUICE_DIR"] = link.string();
  for (const auto& c : cases()) {
    if (!c.opens_the_bus) continue;
    const auto r = bus.run(c.args);
    INFO(joined(c.args) << ": " << r.err);
    CHECK(r.exit_code == 77);
    CHECK(is_one_line(r.err));
  }
}

TEST_CASE("a named file that does not exist is 66 (not found)") {
  bus_fixture bus;
  const auto r = bus.run({"launch", (bus.root() / "missing.toml").string()});
  INFO(r.err);
  CHECK(r.exit_code == 66);
  CHECK(is_one_line(r.err));
}

TEST_CASE("a malformed flag value is 65 for every verb that takes one") {
  bus_fixture bus;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"send", "--priority", "urgent", "a", "w", "t", "x"},
        {"send", "--timeout", "soon", "a", "w", "t", "x"},
        {"send", "--rate-limit", "fast", "a", "w", "t", "x"},
        {"recv", "w", "--wait", "later"},
        {"recv", "w", "--max", "many"},
        {"launch", "--grace", "long", "m.toml"},
        {"monitor-overflow", "--for", "0"},
        {"monitor-rate-limit", "--load-source", "moon"},
        {"loadtest", "--payload", "5000"},
        {"loadtest", "--sinks", "0"},
        {"bridge", "--listen", "127.0.0.1:0", "--batch", "0"},
        {"top", "--once", "--interval", "2x"},
        {"top", "--once", "--sort", "colour"}}) {
    const auto r = bus.run(args);
    INFO(joined(args) << ": " << r.err);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
  }
}
