#pragma once
// Alert lines in the seed format, one JSON object per line:
//   {"timestamp":...,"type":"inbox_overflow","severity":"critical","state":"firing","message":...,"metadata":{...}}
// The file is <bus>/alerts.jsonl unless ALERT_LOG_FILE says otherwise
// (config::alert_log_file()). Lifecycle decisions (when to fire, dedupe, resolve) belong to
// monitors/; this only writes what it is told.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "runtime/jsonl_file.hpp"

namespace sluice::runtime {

enum class severity { info, warning, critical };
enum class alert_state { pending, firing, resolved };
const char* to_string(severity) noexcept;
const char* to_string(alert_state) noexcept;

class alert_sink {
 public:
  explicit alert_sink(std::filesystem::path file,
                      std::uint64_t rotate_bytes = default_rotate_bytes);

  // metadata must be a JSON object (or null for {}). false when not written (counted).
  bool emit(std::string_view type, severity sev, alert_state state, std::string_view message,
            const nlohmann::json& metadata) noexcept;
  bool emit_at(std::chrono::system_clock::time_point when, std::string_view type, severity sev,
               alert_state state, std::string_view message,
               const nlohmann::json& metadata) noexcept;

  std::uint64_t failures() const noexcept { return out_.failures(); }
  const std::filesystem::path& path() const noexcept { return out_.path(); }

 private:
  jsonl_file out_;
};

}  // namespace sluice::runtime
