#include "cli/usage.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string_view>
#include <vector>

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

// Levenshtein distance, for "did you mean" (verb names are short).
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The closest verb or alias, when it is close enough to be a typo.
std::string closest_verb(CLI::App& app, std::string_view word) {
  std::string best;
  std::size_t best_distance = 3;  // at most two edits
  for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    std::vector<std::string> names = sub->get_aliases();
    names.push_back(sub->get_name());
    for (const auto& name : names) {
      const std::size_t d = distance(word, name);
      if (d < best_distance) {
        best_distance = d;
        best = name;
      }
    }
  }
  return best;
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
    const auto guess = closest_verb(app, word);
    if (!guess.empty())
      return "unknown verb '" + std::string(word) + "': did you mean '" + guess + "'?";
    return "unknown verb '" + std::string(word) + "': run 'sluice --help' for the list of verbs";
  }
  return std::string(e.what()) + " (see 'sluice --help')";
}

}  // namespace

std::string describe_usage_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  return one_line(describe(app, e, argc, argv));
}

}  // namespace sluice::cli
