#pragma once
// Reading a whole (small) file the way every sluice file is opened: O_CLOEXEC, so a child a
// launcher spawns at the same moment never inherits the descriptor (std::ifstream cannot ask
// for that), and with a size bound, so a hostile or runaway file cannot exhaust memory.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace sluice::inbox {

struct file_text {
  std::string text;
  int error = 0;  // errno of a failed open or read (ENOENT, EACCES, EFBIG past max_bytes, ...)
};

// follow_symlinks false adds O_NOFOLLOW (files in the bus directory); /proc and user files
// given on the command line are followed.
file_text read_file(const std::filesystem::path& path, std::size_t max_bytes,
                    bool follow_symlinks = true);

// The last `tail_bytes` of a file that may be any size (an append-only log), from the first
// line that starts inside them: a reader of recent lines need not read the whole history.
file_text read_file_tail(const std::filesystem::path& path, std::size_t tail_bytes);

}  // namespace sluice::inbox
