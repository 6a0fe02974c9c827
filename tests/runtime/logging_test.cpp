#include <catch2/catch.hpp>
#include <string>

#include "runtime/logging.hpp"

using namespace sluice::runtime;

TEST_CASE("log levels parse case-insensitively and anything else names its source") {
  CHECK(parse_log_level("trace", "SLUICE_LOG_LEVEL").value() == log_level::trace);
  CHECK(parse_log_level("DEBUG", "SLUICE_LOG_LEVEL").value() == log_level::debug);
  CHECK(parse_log_level("Warn", "SLUICE_LOG_LEVEL").value() == log_level::warn);
  CHECK(parse_log_level("off", "SLUICE_LOG_LEVEL").value() == log_level::off);
  for (const char* bad : {"", "warning", "verbose", "3"}) {
    auto r = parse_log_level(bad, "SLUICE_LOG_LEVEL");
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("SLUICE_LOG_LEVEL") != std::string::npos);
    CHECK(r.err().message.find("trace, debug, info, warn, error, off") != std::string::npos);
  }
  for (auto l : {log_level::trace, log_level::debug, log_level::info, log_level::warn,
                 log_level::error, log_level::off}) {
    CHECK(parse_log_level(to_string(l), "x").value() == l);
  }
}

TEST_CASE("init_logging can be called repeatedly and only changes the level") {
  init_logging(log_level::error);
  init_logging(log_level::debug);
  SUCCEED("no duplicate-logger exception from spdlog");
}
