#pragma once
// The seed's timestamp: UTC, millisecond precision, "2026-01-01T00:00:00.000Z".
#include <chrono>
#include <string>

namespace sluice::runtime {

std::string iso8601_ms(std::chrono::system_clock::time_point t);

}  // namespace sluice::runtime
