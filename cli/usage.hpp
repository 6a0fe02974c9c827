#pragma once
// One line for a command-line mistake: what was wrong and which --help to read.
#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace sluice::cli {

// "unknown verb 'frob': run 'sluice --help' for the list of verbs", or
// "send: 4 required positionals missing: from to type payload (see 'sluice send --help')".
// Always one line: control bytes from argv are escaped as \xNN.
std::string describe_usage_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv);

}  // namespace sluice::cli
