#include "inbox/files/read_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::inbox {

namespace {

// Reads fd from its current offset to the end, at most max_bytes.
file_text read_rest(int fd, std::size_t max_bytes) {
  file_text out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      out.error = errno;
      break;
    }
    if (out.text.size() + static_cast<std::size_t>(n) > max_bytes) {
      out.error = EFBIG;
      break;
    }
    out.text.append(buf, static_cast<std::size_t>(n));
  }
  if (out.error != 0) out.text.clear();
  return out;
}

}  // namespace

file_text read_file(const std::filesystem::path& path, std::size_t max_bytes,
                    bool follow_symlinks) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (follow_symlinks ? 0 : O_NOFOLLOW));
  if (fd < 0) return {{}, errno};
  file_text out = read_rest(fd, max_bytes);
  ::close(fd);
  return out;
}

file_text read_file_tail(const std::filesystem::path& path, std::size_t tail_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {{}, errno};
  const off_t size = ::lseek(fd, 0, SEEK_END);
  const off_t start =
      size > static_cast<off_t>(tail_bytes) ? size - static_cast<off_t>(tail_bytes) : 0;
  if (size < 0 || ::lseek(fd, start, SEEK_SET) < 0) {
    const int err = errno;
    ::close(fd);
    return {{}, err};
  }
  // A line appended between the two seeks may push past tail_bytes; allow it rather than fail.
  file_text out = read_rest(fd, 2 * tail_bytes);
  ::close(fd);
  if (out.error == 0 && start > 0) {
    const auto nl = out.text.find('\n');
    out.text.erase(0, nl == std::string::npos ? out.text.size() : nl + 1);
  }
  return out;
}

}  // namespace sluice::inbox
