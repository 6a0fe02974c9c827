#pragma once
// How `sluice` hands an actor verb to its executable, sluice-<feature> (the verbs and their
// executables are in runtime/cli/actor_verbs.hpp).
#include <filesystem>
#include <string_view>

namespace sluice::cli {

// The directory of the running executable, from /proc/self/exe; empty when that is unreadable.
std::filesystem::path own_directory();

// Replaces this process with the verb's executable, passing argv and the environment
// unchanged. The executable is looked up next to the running one only (never on PATH), so a
// `sluice` always runs the verbs it was installed with. When that fails it throws cli_error
// (exit_code::unavailable) naming the file and what to install.
[[noreturn]] void exec_actor_verb(std::string_view verb, char** argv);

}  // namespace sluice::cli
