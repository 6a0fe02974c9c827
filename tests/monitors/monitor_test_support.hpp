#pragma once
// Helpers for the monitor actor tests: a private bus directory, awaiting a condition with a
// bounded deadline (never a fixed sleep), and reading JSONL files.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace sluice::test {

struct temp_bus {
  std::filesystem::path dir;
  temp_bus() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-monitor-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
  }
  ~temp_bus() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  temp_bus(const temp_bus&) = delete;
  temp_bus& operator=(const temp_bus&) = delete;
};

// Polls `cond` until it holds or `deadline` passes; true when it held.
template <class F>
bool eventually(F&& cond, std::chrono::milliseconds deadline = std::chrono::seconds(15)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

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
