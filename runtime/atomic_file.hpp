#pragma once
// Replacing a file whole: readers (a Prometheus scraper, a browser, a script) see the old
// content or the new, never half of it, and a full disk leaves the old file as it was.
#include <filesystem>
#include <string_view>

#include "runtime/result.hpp"

namespace sluice::runtime {

// Writes text to <file>.tmp.<pid>.<n> (created exclusive, close-on-exec, not through a
// symlink) and renames it over file. Safe from several threads and processes at once: the
// last rename wins. On failure the temp file is removed and file is untouched. mode is the
// new file's (before the umask).
status write_file_atomically(const std::filesystem::path& file, std::string_view text,
                             unsigned mode = 0644);

}  // namespace sluice::runtime
