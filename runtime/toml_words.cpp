#include "runtime/toml_words.hpp"

namespace sluice::runtime {

const char* toml_type_name(const toml::node& n) noexcept {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

std::string unknown_key_problem(const std::vector<std::string_view>& known) {
  std::string text = "unknown key (known: ";
  const char* sep = "";
  for (auto name : known) {
    text += sep;
    text += name;
    sep = ", ";
  }
  return text + ")";
}

std::string toml_place(const toml::source_region& where) {
  std::string text = where.path ? *where.path : std::string("(TOML)");
  return text + ":" + std::to_string(where.begin.line);
}

}  // namespace sluice::runtime
