// Configuration from hostile sources: the input is split into a sluice.toml (before the first
// NUL) and environment values (NUL-separated, one per knob). Every knob must come back as a
// value in range or an error that names its source; nothing may crash.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "runtime/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::runtime;
  const auto dir = sluice::fuzz::scratch_dir() / "config";
  static const bool made = std::filesystem::create_directories(dir / "user") || true;
  (void)made;
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (;;) {
    const auto nul = input.find('\0', from);
    parts.push_back(input.substr(from, nul == std::string::npos ? std::string::npos : nul - from));
    if (nul == std::string::npos) break;
    from = nul + 1;
  }
  const auto& toml = parts[0];
  if (!sluice::fuzz::write_file(dir / "sluice.toml",
                                reinterpret_cast<const std::uint8_t*>(toml.data()), toml.size()))
    return 0;
  std::map<std::string, std::string> env;
  for (int k = 0; k < knob_count && static_cast<std::size_t>(k) + 1 < parts.size(); ++k) {
    env[describe(static_cast<knob>(k)).env] = parts[static_cast<std::size_t>(k) + 1];
  }
  config cfg(
      dir,
      [&](const char* name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      },
      dir / "user");
  if (auto all = cfg.all(); !all && all.err().message.empty()) __builtin_trap();
  (void)cfg.max_inbox_size();
  (void)cfg.slot_size();
  (void)cfg.critical_reserve();
  (void)cfg.thresholds();
  (void)cfg.check_interval();
  for (int k = 0; k < knob_count; ++k) (void)cfg.source_of(static_cast<knob>(k));
  return 0;
}
