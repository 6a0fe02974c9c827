#pragma once
// Metric lines in the seed format, one JSON object per line:
//   {"timestamp":"2026-01-01T00:00:00.000Z","metric":"inbox.size","value":12,"unit":"count","tags":{"agent":"w1"}}
// Integral values print as integers (12, not 12.0). The file is <bus>/metrics.jsonl unless
// METRICS_FILE says otherwise (config::metrics_file()).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string_view>

#include "runtime/jsonl_file.hpp"

namespace sluice::runtime {

struct tag {
  std::string_view key;
  std::string_view value;
};

class metric_sink {
 public:
  explicit metric_sink(std::filesystem::path file,
                       std::uint64_t rotate_bytes = default_rotate_bytes);

  // false when the line could not be written (counted in failures(), first one logged).
  bool emit(std::string_view metric, double value, std::string_view unit,
            std::initializer_list<tag> tags = {}) noexcept;
  bool emit_at(std::chrono::system_clock::time_point when, std::string_view metric, double value,
               std::string_view unit, std::initializer_list<tag> tags = {}) noexcept;

  std::uint64_t failures() const noexcept { return out_.failures(); }
  const std::filesystem::path& path() const noexcept { return out_.path(); }

 private:
  jsonl_file out_;
};

}  // namespace sluice::runtime
