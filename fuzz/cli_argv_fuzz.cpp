// Whole command lines through the real `sluice` parser: the input, split on NUL
// bytes, is argv after "sluice". Only parsing runs, never a verb's action: a verb's CLI11
// callback only stores its action in cli_state (cli/app.hpp), so no bus, file or process is
// touched and actor verbs are not forwarded. Checked for every input:
//   - parsing ends in a chosen verb, --help/--version, or a usage error; never a crash,
//     hang or leak;
//   - a successful parse leaves exactly one action to run;
//   - the usage error (describe_usage_error) and the help text are produced, and the error
//     is one line, whatever bytes argv holds.
#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.hpp"
#include "cli/usage.hpp"
#include "runtime/cli/verb.hpp"

namespace {

// More words than any real command line; keeps one input's work bounded.
constexpr std::size_t max_args = 64;

// "a\0b\0" is {"sluice", "a", "b", ""}; an empty input is {"sluice"}.
std::vector<std::string> split_args(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"sluice"};
  if (size == 0) return args;
  std::string current;
  for (std::size_t i = 0; i < size && args.size() < max_args; ++i) {
    if (data[i] == 0) {
      args.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  if (args.size() < max_args) args.push_back(std::move(current));
  return args;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::cli;
  auto args = split_args(data, size);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(args.size());

  cli_state state;
  state.argv = argv.data();
  const auto app = make_app(state);
  try {
    app->parse(argc, argv.data());
    if (!state.action) __builtin_trap();  // parsed, yet no verb would run
  } catch (const CLI::Success& e) {
    std::ostringstream out;
    std::ostringstream err;
    (void)app->exit(e, out, err);  // the help or version text
  } catch (const CLI::ParseError& e) {
    const std::string message = describe_usage_error(*app, e, argc, argv.data());
    if (message.empty() || message.find('\n') != std::string::npos) __builtin_trap();
  }
  return 0;
}
