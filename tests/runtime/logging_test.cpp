#include "runtime/logging.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <regex>
#include <string>

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

namespace {

// What spdlog's default logger writes to fd 2 while `log` runs.
template <class F>
std::string stderr_of(F log) {
  std::fflush(stderr);
  char path[] = "/tmp/sluice-log-XXXXXX";
  const int file = ::mkstemp(path);
  REQUIRE(file >= 0);
  const int saved = ::dup(2);
  ::dup2(file, 2);
  log();
  spdlog::default_logger()->flush();
  ::dup2(saved, 2);
  ::close(saved);
  std::string out(4096, '\0');
  const auto n = ::pread(file, out.data(), out.size(), 0);
  ::close(file);
  ::unlink(path);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

}  // namespace

TEST_CASE("init_logging can be called repeatedly: one stderr logger, only the level changes") {
  init_logging(log_level::error);
  const auto logger = spdlog::default_logger();
  init_logging(log_level::debug);
  CHECK(spdlog::default_logger() == logger);
  CHECK(spdlog::get_level() == spdlog::level::debug);
  CHECK(stderr_of([] { spdlog::debug("hello"); }) == "sluice debug: hello\n");
  init_logging(log_level::error);
  CHECK(stderr_of([] { spdlog::warn("not shown"); }).empty());
}

TEST_CASE("long-running processes stamp each log line with the time") {
  init_logging(log_level::info);
  log_timestamps(true);
  const auto line = stderr_of([] { spdlog::info("tick"); });
  log_timestamps(false);
  INFO(line);
  CHECK(std::regex_match(
      line,
      std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{2}:?\d{2} sluice info: tick\n)")));
}
