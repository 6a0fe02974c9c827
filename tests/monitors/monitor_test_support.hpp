#pragma once
// Helpers for the monitor actor tests: reading JSONL files (temp directories and awaiting a
// condition are tests/support's).
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/await.hpp"
#include "support/temp_dir.hpp"

namespace sluice::test {

// Every complete JSON line of a file (a line being written right now is skipped).
inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

inline std::size_t count_metric(const std::filesystem::path& file, const std::string& metric) {
  std::size_t n = 0;
  for (const auto& j : read_jsonl(file))
    if (j.value("metric", "") == metric) ++n;
  return n;
}

}  // namespace sluice::test
