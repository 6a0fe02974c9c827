// Agent name rules and the enum spellings every layer prints.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "inbox/inbox.hpp"
#include "messages.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;

TEST_CASE("agent names follow ^[A-Za-z0-9_-]{1,64}$ and nothing else") {
  CHECK(is_valid_agent_name("worker-1"));
  CHECK(is_valid_agent_name("A_b-9"));
  CHECK(is_valid_agent_name(std::string(64, 'a')));
  CHECK_FALSE(is_valid_agent_name(""));
  CHECK_FALSE(is_valid_agent_name(std::string(65, 'a')));
  CHECK_FALSE(is_valid_agent_name("../x"));
  CHECK_FALSE(is_valid_agent_name("a/b"));
  CHECK_FALSE(is_valid_agent_name("with space"));
  CHECK_FALSE(is_valid_agent_name("caf\xc3\xa9"));
  CHECK_FALSE(is_valid_agent_name(std::string("nul\0x", 5)));
  CHECK_FALSE(is_valid_agent_name("."));
}

TEST_CASE("opening an inbox with an invalid agent name is refused before touching the disk") {
  sluice::test::temp_bus bus;
  for (const std::string& bad :
       std::vector<std::string>{"../x", "", std::string(65, 'a'), "a b", "\xc3\xa9t\xc3\xa9"}) {
    auto r = inbox::open_or_create(bus.dir(), bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::invalid_name);
    CHECK(r.err().message.find("A-Z a-z 0-9 _ -") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(bus.dir()));
}

TEST_CASE("priorities and results have stable spellings") {
  CHECK(std::string(to_string(priority::critical)) == "critical");
  CHECK(parse_priority("high") == priority::high);
  CHECK(parse_priority("low") == priority::low);
  CHECK_FALSE(parse_priority("urgent").has_value());
  CHECK(std::string(to_string(push_result::too_large)) == "too_large");
  CHECK(std::string(to_string(errc::busy)) == "busy");
}
