#pragma once
// How `sluice` hands an actor verb to `sluice-actors` (the verbs are in cli/actor_verbs.hpp).
#include <filesystem>
#include <string_view>

namespace CLI {
class App;
}

namespace sluice::cli {

struct cli_state;

// The executable that holds the actor verbs, looked up next to the running one only (never on
// PATH), so a `sluice` always runs the `sluice-actors` it was installed with.
inline constexpr const char* actors_executable = "sluice-actors";

// The directory of the running executable, from /proc/self/exe; empty when that is unreadable.
std::filesystem::path own_directory();

// Replaces this process with <own_directory()>/sluice-actors, passing argv and the
// environment unchanged. When that fails it throws cli_error (exit_code::unavailable) naming
// the file and what to install.
[[noreturn]] void exec_actors(std::string_view verb, char** argv);

// One subcommand per actor verb, with its description and no options of its own: whatever
// follows the verb (including --help) is left for sluice-actors to parse.
void add_forwarded_verbs(CLI::App& app, cli_state& state);

}  // namespace sluice::cli
