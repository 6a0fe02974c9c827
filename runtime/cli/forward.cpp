#include "runtime/cli/forward.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "runtime/cli/actor_verbs.hpp"
#include "runtime/cli/verb.hpp"

namespace sluice::cli {

std::filesystem::path own_directory() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path{} : self.parent_path();
}

void exec_actor_verb(std::string_view verb, char** argv) {
  const char* executable = find_actor_verb(verb).executable;
  const auto dir = own_directory();
  const std::string what = std::string(verb) + " runs in " + executable;
  if (dir.empty()) {
    throw cli_error{exit_code::unavailable,
                    what +
                        ", but /proc/self/exe is unreadable so its directory is unknown: "
                        "mount /proc"};
  }
  const auto target = dir / executable;
  ::execv(target.c_str(), argv);
  const int err = errno;
  // A build of the demo's target alone (scripts/demo.sh) has sluice-launch and no other.
  throw cli_error{exit_code::unavailable,
                  what + ", which could not be started (" + target.string() + ": " +
                      std::strerror(err) +
                      "): install it next to this sluice, from the same build, or build it "
                      "(cmake --build BUILD_DIR --target " +
                      executable + ")"};
}

}  // namespace sluice::cli
