// Launch manifests as hostile text: parse_manifest must accept a valid manifest or answer
// "<file>:<line>: <key>: <problem>", never crash; accepted values are within their limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "actors/launch/manifest.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::actors;
  static const auto file = sluice::fuzz::scratch_dir() / "swarm.toml";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = parse_manifest(text, file);
  if (!m) {
    if (m.err().message.empty()) __builtin_trap();
    return 0;
  }
  for (const auto& a : m->agents) {
    if (!sluice::inbox::is_valid_agent_name(a.name) || a.command.empty()) __builtin_trap();
    if (a.restart_backoff > max_restart_backoff) __builtin_trap();
  }
  if (m->agents.size() > 1024u * 1024u) __builtin_trap();
  return 0;
}
