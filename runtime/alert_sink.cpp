#include "runtime/alert_sink.hpp"

#include <cerrno>
#include <nlohmann/json.hpp>

#include "runtime/timestamp.hpp"

namespace sluice::runtime {

const char* to_string(severity s) noexcept {
  switch (s) {
    case severity::info:
      return "info";
    case severity::warning:
      return "warning";
    case severity::critical:
      return "critical";
  }
  return "unknown";
}

const char* to_string(alert_state s) noexcept {
  switch (s) {
    case alert_state::pending:
      return "pending";
    case alert_state::firing:
      return "firing";
    case alert_state::resolved:
      return "resolved";
  }
  return "unknown";
}

alert_sink::alert_sink(std::filesystem::path file, std::uint64_t rotate_bytes)
    : out_(std::move(file), rotate_bytes) {}

bool alert_sink::emit(std::string_view type, severity sev, alert_state state,
                      std::string_view message, const nlohmann::json& metadata) noexcept {
  return emit_at(std::chrono::system_clock::now(), type, sev, state, message, metadata);
}

bool alert_sink::emit_at(std::chrono::system_clock::time_point when, std::string_view type,
                         severity sev, alert_state state, std::string_view message,
                         const nlohmann::json& metadata) noexcept {
  try {
    // ordered_json keeps the seed's key order; metadata keeps the caller's (sorted) keys.
    nlohmann::ordered_json line;
    line["timestamp"] = iso8601_ms(when);
    line["type"] = type;
    line["severity"] = to_string(sev);
    line["state"] = to_string(state);
    line["message"] = message;
    line["metadata"] =
        metadata.is_null() ? nlohmann::ordered_json::object() : nlohmann::ordered_json(metadata);
    return out_.append(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  } catch (...) {
    return out_.record_failure("format an alert line for", ENOMEM);
  }
}

}  // namespace sluice::runtime
