// `sluice <actor verb>`: one subcommand per actor verb, with its description and no options
// of its own. Whatever follows the verb (including --help) is left for the verb's executable
// to parse (runtime/cli/forward.hpp hands it over).
#include <CLI/CLI.hpp>

#include "runtime/cli/actor_verbs.hpp"
#include "runtime/cli/forward.hpp"
#include "runtime/cli/verb.hpp"

namespace sluice::cli {

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
