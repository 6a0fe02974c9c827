#pragma once
// "1 message", "2 messages": counts in messages people read.
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::runtime {

inline std::string plural(std::uint64_t n, std::string_view word, std::string_view many = {}) {
  std::string out = std::to_string(n) + " ";
  if (n == 1) return out.append(word);
  if (!many.empty()) return out.append(many);
  return out.append(word).append("s");
}

}  // namespace sluice::runtime
