#include "inbox/files/std_fds.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::inbox {
namespace {

// Opens a placeholder numbered `fd`: for input (stdin) write-only, so reads fail with EBADF;
// for output read-only, so writes do.
bool fill(int fd, bool is_input) noexcept {
  int got = ::open("/dev/null", is_input ? O_WRONLY : O_RDONLY);
  // Without /dev/null (a bare chroot), the root directory: reads fail (EISDIR), writes too.
  if (got < 0) got = ::open("/", O_RDONLY | O_DIRECTORY);
  if (got < 0) return false;
  if (got == fd) return true;
  // Lower numbers were free too and were filled first, so `got` is above fd only if another
  // thread raced us; move it into place.
  const int moved = ::dup2(got, fd);
  ::close(got);
  return moved == fd;
}

}  // namespace

bool ensure_std_fds_open() noexcept {
  bool ok = true;
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    ok = fill(fd, fd == 0) && ok;
  }
  return ok;
}

}  // namespace sluice::inbox
