// Placeholder registration until the CLI issue lands the one-shot verbs.
#include <CLI/CLI.hpp>

#include "cli/verb.hpp"

namespace sluice::cli {
void add_messaging_verbs(CLI::App&, cli_state&) {}
}  // namespace sluice::cli
