#pragma once
// Runs a check on a read-only filesystem: a forked child mounts a read-only tmpfs over dir in a
// mount namespace of its own (nothing outside the child sees it) and returns check()'s exit
// code. Needs CAP_SYS_ADMIN (root, as CI runs); where the mount is refused the test is skipped.
#include <sched.h>
#include <sys/mount.h>

#include <filesystem>

#include "support/children.hpp"
#include "support/skip.hpp"

namespace sluice::test {

template <class F>
int on_read_only_tmpfs(const std::filesystem::path& dir, F&& check) {
  constexpr int cannot_mount = 77;
  std::filesystem::create_directories(dir);
  const pid_t child = spawn([&] {
    if (::unshare(CLONE_NEWNS) != 0) return cannot_mount;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return cannot_mount;
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_RDONLY, "mode=0700") != 0) return cannot_mount;
    const int code = check();
    return code == cannot_mount ? 1 : code;
  });
  const int code = reap(child);
  if (code == cannot_mount)
    SLUICE_SKIP("cannot mount a read-only tmpfs here (needs CAP_SYS_ADMIN)");
  return code;
}

}  // namespace sluice::test
