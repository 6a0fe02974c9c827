// The command line behaves like the tools people know (git, docker, redis-cli): `help VERB`,
// "did you mean", help without parser jargon and with the global flags, --version.
#include <regex>
#include <sstream>

#include "support/cli_checks.hpp"

using namespace sluice::test;

namespace {

// Every verb `sluice --help` lists (the first word of each line under "Subcommands:").
std::vector<std::string> verbs(const bus_fixture& bus) {
  std::istringstream help(ok_out(bus, {"--help"}));
  std::vector<std::string> out;
  bool in_list = false;
  for (std::string line; std::getline(help, line);) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (line.empty() || line[0] != ' ') break;
    std::istringstream words(line);
    std::string verb;
    words >> verb;
    if (!verb.empty() && verb.back() == ',') verb.pop_back();
    out.push_back(verb);
  }
  return out;
}

}  // namespace

TEST_CASE("sluice help VERB prints that verb's help on stdout and exits 0, for every verb") {
  bus_fixture bus;
  const auto all = verbs(bus);
  REQUIRE(all.size() > 20);
  for (const auto& verb : all) {
    INFO(verb);
    const auto r = bus.run({"help", verb});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: sluice " + verb) != std::string::npos);
    // No parser vocabulary: values are named after their options.
    CHECK_FALSE(std::regex_search(
        r.out, std::regex(R"(\b(TEXT|UINT|INT|FLOAT|NUMBER)\b|:POSITIVE|:NONNEGATIVE| in \[)")));
    CHECK(r.out.find("Global flags") != std::string::npos);
    CHECK(r.out.find("Exit codes: 0 ok") == std::string::npos);  // only in sluice --help
  }
  CHECK(ok_out(bus, {"help"}).find("Exit codes: 0 ok") != std::string::npos);
}

TEST_CASE("a mistyped verb gets a suggestion in one line, exit 64") {
  bus_fixture bus;
  for (const auto& [typo, meant] :
       std::vector<std::pair<std::string, std::string>>{{"sedn", "send"},
                                                        {"recieve", "receive"},
                                                        {"lanch", "launch"},
                                                        {"get-stat", "get-stats"}}) {
    const auto r = bus.run({typo, "x"});
    INFO(r.err);
    CHECK(r.exit_code == 64);
    CHECK(is_one_line(r.err));
    CHECK(r.err.find("did you mean '" + meant + "'") != std::string::npos);
  }
  const auto r = bus.run({"zzzzzzzz"});
  CHECK(r.err.find("did you mean") == std::string::npos);
}

TEST_CASE("sluice --version prints the version on stdout and exits 0") {
  bus_fixture bus;
  const auto r = bus.run({"--version"});
  CHECK(r.exit_code == 0);
  CHECK(std::regex_search(r.out, std::regex(R"(^sluice \d+\.\d+\.\d+)")));
}
