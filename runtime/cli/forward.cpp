#include "runtime/cli/forward.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
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

void add_forwarded_verbs(CLI::App& app, cli_state& state) {
  for (const auto& verb : actor_verbs) {
    auto* cmd = app.add_subcommand(verb.name, verb.description);
    cmd->set_help_flag();     // --help belongs to the real verb in its executable
    cmd->fallthrough(false);  // so do global flags after the verb: that executable parses argv
    cmd->prefix_command();    // everything after the verb, unparsed
    cmd->callback([&state, name = verb.name] {
      state.action = [&state, name]() -> int { exec_actor_verb(name, state.argv); };
    });
  }
}

}  // namespace sluice::cli
