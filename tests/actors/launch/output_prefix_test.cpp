// launch's output: agent lines prefixed and aligned, coloured only when asked.
#include "actors/launch/output_prefix.hpp"

#include <catch2/catch.hpp>

using sluice::actors::output_prefixer;
using sluice::actors::output_stream;

TEST_CASE("agent output lines are prefixed with the agent name, padded to the longest name") {
  const output_prefixer p({"coordinator", "w1"}, false, false);
  CHECK(p.format("w1", output_stream::out, "hello") == "w1          | hello\n");
  CHECK(p.format("coordinator", output_stream::err, "") == "coordinator | \n");
}

TEST_CASE("colour is per agent and per stream, and only where enabled") {
  const output_prefixer p({"a", "b"}, true, false);
  const auto a = p.format("a", output_stream::out, "x");
  const auto b = p.format("b", output_stream::out, "x");
  CHECK(a.rfind("\033[", 0) == 0);
  CHECK_THAT(a, Catch::EndsWith("\033[0mx\n"));
  CHECK(a.substr(0, 5) != b.substr(0, 5));
  CHECK(p.format("a", output_stream::err, "x") == "a | x\n");
}
