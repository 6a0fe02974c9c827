#include "inbox/files/create_linked.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace sluice::inbox {

result<done> create_linked(const std::filesystem::path& final_path, mode_t mode,
                           const linked_file_steps& steps) {
  const std::filesystem::path tmp = final_path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return steps.os_error(tmp, "create", errno);
  // The mode as asked, whatever the umask: a group bus needs its files group-writable.
  if (::fchmod(fd, mode) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return steps.os_error(tmp, "set the mode of", err);
  }
  auto made = steps.initialise(fd, final_path);
  ::close(fd);
  if (!made) {
    ::unlink(tmp.c_str());
    return made.err();
  }
  const int linked = ::link(tmp.c_str(), final_path.c_str());
  const int link_err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && link_err != EEXIST) return steps.os_error(final_path, "create", link_err);
  return done{};
}

}  // namespace sluice::inbox
