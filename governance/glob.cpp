#include "governance/glob.hpp"

#include <algorithm>

namespace sluice::governance {

bool is_valid_glob(std::string_view pattern, std::size_t max_size) noexcept {
  if (pattern.empty() || pattern.size() > max_size) return false;
  return std::all_of(pattern.begin(), pattern.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || c == '@' || c == '*' || c == '?';
  });
}

bool glob_match(std::string_view p, std::string_view t) noexcept {
  std::size_t pi = 0;
  std::size_t ti = 0;
  std::size_t star = std::string_view::npos;  // pattern index after the last `*`
  std::size_t mark = 0;                       // text index that `*` is tried from
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = ++pi;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace sluice::governance
