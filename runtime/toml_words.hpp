#pragma once
// The words sluice's TOML files (launch manifests, policy files) use for a value of the wrong
// type and for a key they do not know, so that a mistake reads the same in each.
#include <toml++/toml.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace sluice::runtime {

// What a value is, for "must be <kind>, not <this>": "a string", "an integer", "a number",
// "a boolean", "an array", "a table", "a date or time".
const char* toml_type_name(const toml::node& n) noexcept;

// "unknown key (known: a, b, c)": the key itself goes where the file's messages put keys.
std::string unknown_key_problem(std::initializer_list<std::string_view> known);

}  // namespace sluice::runtime
