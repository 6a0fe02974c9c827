#pragma once
// Assertion helpers shared by the CLI tests.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "support/process.hpp"

namespace sluice::test {

// An error report is exactly one line on stderr.
inline bool is_one_line(const std::string& err) {
  return !err.empty() && err.back() == '\n' && err.find('\n') == err.size() - 1;
}

// Parses stdout as JSON; fails the test (with the text) when it is not JSON.
inline nlohmann::json parse_json(const std::string& text) {
  INFO("stdout: " << text);
  auto j = nlohmann::json::parse(text, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// Runs a verb that must succeed and returns its stdout.
inline std::string ok_out(const bus_fixture& bus, const std::vector<std::string>& args,
                          const std::string& input = {}) {
  const auto r = bus.run(args, input);
  INFO("sluice " << args.front() << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

inline std::uint64_t count_of(const bus_fixture& bus, const std::string& agent) {
  return std::stoull(ok_out(bus, {"count", agent}));
}

}  // namespace sluice::test
