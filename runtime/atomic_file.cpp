#include "runtime/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace sluice::runtime {

status write_file_atomically(const std::filesystem::path& file, std::string_view text,
                             unsigned mode) {
  // pid + a per-process sequence: two monitors in one process (different threads) writing
  // the same file never share a temp file.
  static std::atomic<std::uint64_t> sequence{0};
  const std::filesystem::path tmp = file.string() + ".tmp." + std::to_string(::getpid()) + "." +
                                    std::to_string(sequence.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        static_cast<mode_t>(mode));
  auto os_error = [&](const char* what, int err) {
    return error{inbox::errc_of_errno(err),
                 fmt::format("cannot {} {}: {}", what, tmp.string(), std::strerror(err))};
  };
  if (fd < 0) return os_error("create", errno);
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return os_error("write", err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return os_error("close", err);
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return error{errc::io_error, fmt::format("cannot rename {} to {}: {}", tmp.string(),
                                             file.string(), std::strerror(err))};
  }
  return done{};
}

}  // namespace sluice::runtime
