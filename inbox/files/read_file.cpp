#include "inbox/files/read_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::inbox {

file_text read_file(const std::filesystem::path& path, std::size_t max_bytes,
                    bool follow_symlinks) {
  file_text out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (follow_symlinks ? 0 : O_NOFOLLOW));
  if (fd < 0) {
    out.error = errno;
    return out;
  }
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
  ::close(fd);
  if (out.error != 0) out.text.clear();
  return out;
}

}  // namespace sluice::inbox
