// The values the CLI parses out of its arguments and environment before any verb runs:
// durations (--timeout, intervals), priorities (--priority), agent and bus names
// (--bus/--dir resolution). Each must be accepted or refused, never crash or overflow.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "inbox/inbox.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto d = runtime::parse_duration(text, "--timeout"); d && d->count() < 0) __builtin_trap();
  (void)inbox::parse_priority(text);
  const bool valid = inbox::is_valid_agent_name(text);
  if (valid &&
      (text.empty() || text.size() > inbox::max_agent_name || text.find('/') != std::string::npos))
    __builtin_trap();
  auto bus = runtime::resolve_bus(runtime::bus_flags{"", text});
  // A bus name must never climb out of the bus root.
  if (bus && bus->dir.string().find("..") != std::string::npos) __builtin_trap();
  (void)runtime::resolve_bus(runtime::bus_flags{text, ""});
  return 0;
}
