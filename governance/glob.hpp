#pragma once
// Globs on agent names, message types and limit keys: `*` any run of characters (also none),
// `?` one character, everything else itself. No character classes: names are plain
// (A-Z a-z 0-9 _ - . : @), so a pattern is easy to read and to check.
#include <cstddef>
#include <string_view>

namespace sluice::governance {

// 1..max_size characters of A-Z a-z 0-9 _ - . : @ * ?.
bool is_valid_glob(std::string_view pattern, std::size_t max_size) noexcept;

// Whole-string match (iterative, linear in practice: one backtrack point per `*`).
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace sluice::governance
