#pragma once
// The name rule shared by agents and buses, ^[A-Za-z0-9_-]{1,64}$: a name is always one
// safe path component.
#include <string_view>

namespace sluice::runtime {

constexpr bool is_valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace sluice::runtime
