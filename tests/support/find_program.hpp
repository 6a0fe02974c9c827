#pragma once
// Where a program named on PATH is, as a shell would find it: process.hpp execs a path and
// does not search. Empty when PATH has no executable of that name (tests then SLUICE_SKIP).
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace sluice::test {

inline std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  const std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto colon = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, colon - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return {};
}

}  // namespace sluice::test
