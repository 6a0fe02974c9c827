#include "runtime/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <string>

namespace sluice::runtime {
namespace {

constexpr std::array<const char*, 6> level_names = {"trace", "debug", "info",
                                                    "warn",  "error", "off"};

spdlog::level::level_enum to_spdlog(log_level l) noexcept {
  switch (l) {
    case log_level::trace:
      return spdlog::level::trace;
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warn:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
    case log_level::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

const char* to_string(log_level l) noexcept {
  return level_names[static_cast<std::size_t>(l)];
}

result<log_level> parse_log_level(std::string_view text, std::string_view what) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < level_names.size(); ++i) {
    if (lower == level_names[i]) return static_cast<log_level>(i);
  }
  return error{errc::invalid_argument,
               std::string(what) + "='" + std::string(text) +
                   "' is not a log level; use one of trace, debug, info, warn, error, off"};
}

constexpr const char* plain_pattern = "sluice %^%l%$: %v";
constexpr const char* stamped_pattern = "%Y-%m-%dT%H:%M:%S.%e%z sluice %^%l%$: %v";

void log_timestamps(bool on) {
  spdlog::set_pattern(on ? stamped_pattern : plain_pattern);
}

void init_logging(log_level level) {
  // The default spdlog logger writes to stdout, which carries sluice's JSON output; replace
  // it once with a plain (uncoloured, mutex-protected) stderr logger.
  static const bool installed = [] {
    auto logger = std::make_shared<spdlog::logger>(
        "sluice", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern(plain_pattern);
    spdlog::set_default_logger(std::move(logger));
    return true;
  }();
  (void)installed;
  spdlog::set_level(to_spdlog(level));
}

status init_logging_from_env() {
  const char* env = std::getenv("SLUICE_LOG_LEVEL");
  if (env == nullptr) {
    init_logging(log_level::info);
    return done{};
  }
  auto level = parse_log_level(env, "SLUICE_LOG_LEVEL");
  if (!level) {
    init_logging(log_level::info);
    return level.err();
  }
  init_logging(*level);
  return done{};
}

}  // namespace sluice::runtime
