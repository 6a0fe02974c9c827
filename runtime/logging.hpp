#pragma once
// spdlog to stderr (stdout is reserved for JSON output), level from SLUICE_LOG_LEVEL.
// Kept out of hot paths and cheap: one stderr sink, created once per process.
#include <string_view>

#include "runtime/result.hpp"

namespace sluice::runtime {

enum class log_level { trace, debug, info, warn, error, off };

const char* to_string(log_level) noexcept;
// Accepts exactly trace, debug, info, warn, error, off (case-insensitive). `what` names the
// source in the error ("SLUICE_LOG_LEVEL").
result<log_level> parse_log_level(std::string_view text, std::string_view what);

// Installs a stderr logger as spdlog's default and sets its level. Idempotent: later calls
// only change the level.
void init_logging(log_level level);
// Long-running processes (the actor verbs, recv --follow, agents) stamp every log line with the
// time (ISO 8601, milliseconds, local offset); a one-shot verb's single line needs none.
void log_timestamps(bool on);

// init_logging from $SLUICE_LOG_LEVEL (info when unset); an invalid value is the error
// (logging is still set up at info so the caller can report it).
status init_logging_from_env();

}  // namespace sluice::runtime
