#pragma once
// How a file every process of a bus maps (bus.ctl, policy.ctl) comes to exist whole or not at
// all: it is built in a private temp file `<final>.tmp.<pid>`, then published with link(2),
// which fails with EEXIST when another process published first (the caller then opens that
// one). No reader ever maps a half-made file; a crash leaves only the temp file, which doctor
// lists and doctor --repair removes. Inboxes take the same steps in open.cpp, keeping the
// descriptor and a random suffix.
#include <sys/types.h>

#include <filesystem>
#include <functional>

#include "inbox/result.hpp"

namespace sluice::inbox {

struct linked_file_steps {
  // Fills the new file through fd (size, contents); final_path is for its error messages.
  std::function<result<done>(int fd, const std::filesystem::path& final_path)> initialise;
  // Words the error for a failed system call on `path`, as the file's own messages do.
  std::function<error(const std::filesystem::path& path, const char* what, int err)> os_error;
};

// Done when the file was published, by us or by another process.
result<done> create_linked(const std::filesystem::path& final_path, mode_t mode,
                           const linked_file_steps& steps);

}  // namespace sluice::inbox
