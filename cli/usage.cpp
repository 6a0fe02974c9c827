#include "cli/usage.hpp"

#include <CLI/CLI.hpp>
#include <string_view>

namespace sluice::cli {

namespace {

// The first word that is neither a flag nor the value of a global option taking one.
const char* first_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--bus" || arg == "--dir") {
      ++i;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    return argv[i];
  }
  return nullptr;
}

// argv may hold any byte, and CLI11 and we echo words from it: control bytes are escaped so
// the error stays one line on stderr.
std::string one_line(const std::string& text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += ch;
    }
  }
  return out;
}

bool is_verb(CLI::App& app, const std::string& word) {
  return !app.get_subcommands([&word](CLI::App* sub) { return sub->check_name(word); }).empty();
}

std::string describe(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  const auto parsed = app.get_subcommands();
  if (!parsed.empty()) {
    const std::string verb = parsed.back()->get_name();
    return verb + ": " + e.what() + " (see 'sluice " + verb + " --help')";
  }
  const char* word = first_word(argc, argv);
  if (word == nullptr) return "no verb given: run 'sluice --help' for the list of verbs";
  if (!is_verb(app, word)) {
    return "unknown verb '" + std::string(word) + "': run 'sluice --help' for the list of verbs";
  }
  return std::string(e.what()) + " (see 'sluice --help')";
}

}  // namespace

std::string describe_usage_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  return one_line(describe(app, e, argc, argv));
}

}  // namespace sluice::cli
