#pragma once
// The words sluice's TOML files (sluice.toml, launch manifests, policy files) use for a value of
// the wrong type, for a key they do not know and for where it is, so that a mistake reads the
// same in each: "<file>:<line>: <key>: <problem>".
#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

namespace sluice::runtime {

// What a value is, for "must be <kind>, not <this>": "a string", "an integer", "a number",
// "a boolean", "an array", "a table", "a date or time".
const char* toml_type_name(const toml::node& n) noexcept;

// "unknown key (known: a, b, c)": the key itself goes where the file's messages put keys.
std::string unknown_key_problem(const std::vector<std::string_view>& known);

// "<file>:<line>": where a node or key of a parsed file is, for the start of a message.
std::string toml_place(const toml::source_region& where);

}  // namespace sluice::runtime
