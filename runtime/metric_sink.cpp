#include "runtime/metric_sink.hpp"

#include <cerrno>
#include <cmath>
#include <nlohmann/json.hpp>

#include "runtime/timestamp.hpp"

namespace sluice::runtime {

metric_sink::metric_sink(std::filesystem::path file, std::uint64_t rotate_bytes)
    : out_(std::move(file), rotate_bytes) {}

bool metric_sink::emit(std::string_view metric, double value, std::string_view unit,
                       std::initializer_list<tag> tags) noexcept {
  return emit_at(std::chrono::system_clock::now(), metric, value, unit, tags);
}

bool metric_sink::emit_at(std::chrono::system_clock::time_point when, std::string_view metric,
                          double value, std::string_view unit,
                          std::initializer_list<tag> tags) noexcept {
  try {
    // ordered_json keeps the seed's key order (timestamp, metric, value, unit, tags).
    nlohmann::ordered_json line;
    line["timestamp"] = iso8601_ms(when);
    line["metric"] = metric;
    // The seed prints counts as integers ("value":12); only true fractions stay doubles.
    constexpr double exact_int_limit = 9007199254740992.0;  // 2^53
    if (std::isfinite(value) && std::nearbyint(value) == value &&
        std::fabs(value) < exact_int_limit) {
      line["value"] = static_cast<std::int64_t>(value);
    } else {
      line["value"] = value;
    }
    line["unit"] = unit;
    line["tags"] = nlohmann::ordered_json::object();
    for (const auto& t : tags) line["tags"][std::string(t.key)] = t.value;
    return out_.append(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  } catch (...) {
    return out_.record_failure("format a metric line for", ENOMEM);
  }
}

}  // namespace sluice::runtime
