// HOST:PORT parsing shared by `sluice bridge` and the manifest's [bridge] section.
#include "runtime/endpoint.hpp"

#include <catch2/catch.hpp>

using sluice::runtime::parse_endpoint;

TEST_CASE("an endpoint splits at its last colon into host and port") {
  auto e = parse_endpoint("127.0.0.1:7400", false);
  REQUIRE(e);
  CHECK(e->host == "127.0.0.1");
  CHECK(e->port == 7400);
  auto v6 = parse_endpoint("::1:65535", false);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 65535);
}

TEST_CASE("port 0 is accepted only where any free port is allowed") {
  CHECK(parse_endpoint("localhost:0", true));
  auto refused = parse_endpoint("localhost:0", false);
  REQUIRE_FALSE(refused);
  CHECK(refused.err().message == "'localhost:0' is not HOST:PORT with a port 1..65535");
}

TEST_CASE("an endpoint without host, port or with a bad port is refused with the text it got") {
  for (const char* text : {"7400", ":7400", "host:", "host:65536", "host:-1", "host:80x",
                           "host: 80", "host:99999999999"}) {
    INFO(text);
    auto e = parse_endpoint(text, true);
    REQUIRE_FALSE(e);
    CHECK(e.err().message.rfind(std::string("'") + text + "' is not HOST:PORT", 0) == 0);
  }
}
