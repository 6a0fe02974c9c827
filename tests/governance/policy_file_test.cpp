// Policy files: the form of the issue parses; every mistake is reported as FILE:LINE with what
// to write instead, all of them in one go.
#include "governance/policy_file.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace sluice::governance;

namespace {

bool has_error(const parsed_policy& p, const std::string& prefix, const std::string& part) {
  for (const auto& e : p.errors)
    if (e.rfind(prefix, 0) == 0 && e.find(part) != std::string::npos) return true;
  return false;
}

const char* const example = R"([[rule]]
name = "workers-to-coordinator"
from = "worker-*"
to = "coordinator"
action = "limit"
rate = "5/s"
burst = 5
algorithm = "token_bucket"

[[limit]]
name = "llm"
rate = "50/m"
burst = 10
concurrency = 4
quota = "100000/d"
quota_mode = "hard"
)";

}  // namespace

TEST_CASE("the documented policy parses into one rule and one limit") {
  const auto p = parse_policy(example, "p.toml");
  INFO((p.errors.empty() ? std::string() : p.errors.front()));
  REQUIRE(p.value);
  REQUIRE(p.value->rules.size() == 1);
  REQUIRE(p.value->limits.size() == 1);
  const auto& r = p.value->rules[0];
  CHECK(r.from == "worker-*");
  CHECK(r.limit->count == 5);
  CHECK(r.limit->period_ns == 1'000'000'000);
  const auto& l = p.value->limits[0];
  CHECK(l.concurrency == 4);
  CHECK(l.quota->amount == 100000);
  CHECK(l.quota->period == quota_period::day);
  CHECK(l.quota->hard);
}

TEST_CASE("each mistake is reported with the file and line it is on") {
  const auto p = parse_policy(R"([[rule]]
name = "a"
action = "limit"
rate = "5/fortnight"

[[rule]]
name = "a"
action = "explode"

[[limit]]
name = "llm"
concurrency = 0
quota = "10/century"
)",
                              "bad.toml");
  CHECK_FALSE(p.value);
  CHECK(has_error(p, "bad.toml:4:", "rate"));
  CHECK(has_error(p, "bad.toml:", "action"));
  CHECK(has_error(p, "bad.toml:", "concurrency"));
  CHECK(has_error(p, "bad.toml:", "quota"));
  CHECK(p.errors.size() >= 4);
}

TEST_CASE("a duplicate name, an unknown key and a TOML syntax error are refused") {
  CHECK_FALSE(
      parse_policy(
          "[[rule]]\nname = \"x\"\naction = \"deny\"\n[[rule]]\nname = \"x\"\naction = \"deny\"\n",
          "d.toml")
          .value);
  const auto unknown =
      parse_policy("[[rule]]\nname = \"x\"\naction = \"deny\"\ncolour = \"red\"\n", "u.toml");
  CHECK(has_error(unknown, "u.toml:4:", "colour"));
  const auto syntax = parse_policy("[[rule]\nname = ", "s.toml");
  CHECK_FALSE(syntax.value);
  CHECK(has_error(syntax, "s.toml:1", ""));
}

TEST_CASE("rates name their unit or any duration, and refuse what a limiter cannot do") {
  rate_value r;
  CHECK_FALSE(parse_rate("50/m", r));
  CHECK(r.count == 50);
  CHECK(r.period_ns == 60'000'000'000);
  CHECK_FALSE(parse_rate("30/5m", r));
  CHECK(r.period_ns == 300'000'000'000);
  CHECK(parse_rate("0/s", r));
  CHECK(parse_rate("5", r));
  CHECK(parse_rate("5/0ms", r));
}
