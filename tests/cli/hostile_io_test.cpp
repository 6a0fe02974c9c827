// sluice started the way careless scripts start it: with stdin, stdout or stderr closed, or
// with absurd batch sizes. Nothing may land inside an inbox, be consumed unseen, or crash.
#include <cstdio>

#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

namespace {

// sluice <args...> started by a shell with the given redirections, e.g. ">&-" to close stdout.
run_result run_redirected(const bus_fixture& bus, const std::string& redirections,
                          const std::vector<std::string>& args) {
  auto o = bus.options_for(args);
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$@\" " + redirections, "sh"};
  argv.insert(argv.end(), o.argv.begin(), o.argv.end());
  o.argv = argv;
  process p(o);
  return p.finish();
}

// The inbox is still a valid inbox holding exactly `n` messages (nothing was written into it).
void check_intact(const bus_fixture& bus, const std::string& agent, std::uint64_t n) {
  CHECK(count_of(bus, agent) == n);
  const auto doctor = bus.run({"doctor"});
  INFO(doctor.out << doctor.err);
  CHECK(doctor.exit_code == 0);
}

}  // namespace

TEST_CASE("consuming verbs with stdout closed exit 74 with one line and consume nothing") {
  const std::vector<std::vector<std::string>> verbs = {
      {"recv", "w"}, {"recv", "w", "--jsonl"}, {"clear", "w"}, {"recv", "w", "--follow"}};
  for (const auto& verb : verbs) {
    DYNAMIC_SECTION("sluice " << verb[0] << (verb.size() > 2 ? " " + verb[2] : "")) {
      bus_fixture bus;
      ok_out(bus, {"send", "a", "w", "t", "one"});
      ok_out(bus, {"send", "a", "w", "t", "two"});
      const auto r = run_redirected(bus, ">&-", verb);
      INFO(r.err);
      CHECK(r.exit_code == 74);
      CHECK(is_one_line(r.err));
      CHECK(r.err.find("stdout is closed") != std::string::npos);
      check_intact(bus, "w", 2);
    }
  }
}

TEST_CASE("reading verbs with stdout closed exit 74 and leave the inbox intact") {
  for (const std::string verb : {"count", "peek", "get-stats"}) {
    DYNAMIC_SECTION("sluice " << verb) {
      bus_fixture bus;
      ok_out(bus, {"send", "a", "w", "t", "one"});
      std::vector<std::string> args = {verb};
      if (verb != "get-stats") args.push_back("w");
      const auto r = run_redirected(bus, ">&-", args);
      INFO(r.err);
      CHECK(r.exit_code == 74);
      CHECK(is_one_line(r.err));
      check_intact(bus, "w", 1);
    }
  }
}

TEST_CASE("send --print-id with stdout closed sends nothing and exits 74") {
  bus_fixture bus;
  ok_out(bus, {"init", "w"});
  const auto r = run_redirected(bus, ">&-", {"send", "--print-id", "a", "w", "t", "x"});
  INFO(r.err);
  CHECK(r.exit_code == 74);
  CHECK(is_one_line(r.err));
  CHECK(r.err.find("stdout is closed: nothing was sent") != std::string::npos);
  check_intact(bus, "w", 0);
}

TEST_CASE("a warning logged with stderr closed does not reach an inbox") {
  bus_fixture bus;
  ok_out(bus, {"init", "w"});
  // MAX_INBOX_SIZE differs from the existing inbox's capacity: send warns while w is open.
  bus.env["MAX_INBOX_SIZE"] = "3";
  const auto r = run_redirected(bus, "2>&-", {"send", "a", "w", "t", "x"});
  CHECK(r.exit_code == 0);
  bus.env.erase("MAX_INBOX_SIZE");
  check_intact(bus, "w", 1);
}

TEST_CASE("send - with stdin closed exits 74 and sends nothing") {
  bus_fixture bus;
  ok_out(bus, {"init", "w"});
  const auto r = run_redirected(bus, "<&-", {"send", "a", "w", "t", "-"});
  INFO(r.err);
  CHECK(r.exit_code == 74);
  CHECK(is_one_line(r.err));
  check_intact(bus, "w", 0);
}

TEST_CASE("recv --max far beyond the inbox's size takes what is there at once") {
  bus_fixture bus;
  for (int i = 0; i < 3; ++i) ok_out(bus, {"send", "a", "w", "t", std::to_string(i)});
  for (const std::string max : {"100000000", "4294967296", "18446744073709551615"}) {
    DYNAMIC_SECTION("--max " << max) {
      const auto r = bus.run({"recv", "w", "--max", max});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK(parse_json(r.out).size() <= 3);
    }
  }
  CHECK(count_of(bus, "w") == 0);
}

TEST_CASE("recv --max and --batch with nonsense values are bad input (65) in one line") {
  bus_fixture bus;
  for (const std::vector<std::string>& args : {std::vector<std::string>{"recv", "w", "--max", "0"},
                                               {"recv", "w", "--max", "-1"},
                                               {"recv", "w", "--max", "many"},
                                               {"recv", "w", "--max", "99999999999999999999999"},
                                               {"recv", "w", "--batch", "lots"}}) {
    const auto r = bus.run(args);
    INFO(args[3] << ": " << r.err);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
  }
}
