#include "runtime/jsonl_file.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "inbox/files/bus_directory.hpp"

namespace sluice::runtime {
namespace {

// Opens p for writing, creating it when missing: 0600, or 0660 in a group bus so every
// member can append, whatever the umask. Never through a symlink.
int open_for_writing(const std::filesystem::path& p, int flags) noexcept {
  const mode_t mode = inbox::bus_file_mode(p.parent_path());
  // A rotation may rename the file away between the two opens: then create it again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    int fd = ::open(p.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd >= 0) {
      (void)::fchmod(fd, mode);  // undoes the umask only; the file is usable either way
      return fd;
    }
    if (errno != EEXIST) return -1;
    fd = ::open(p.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 || errno != ENOENT) return fd;
  }
  return -1;
}

// Holds an flock for the scope; the kernel drops it if the process dies mid-rotation.
class file_lock {
 public:
  explicit file_lock(const std::filesystem::path& p) noexcept : fd_(open_for_writing(p, O_RDWR)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;
  ~file_lock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace

jsonl_file::jsonl_file(std::filesystem::path file, std::uint64_t max_bytes)
    : file_(std::move(file)),
      lock_file_(file_.string() + ".lock"),
      rotated_file_(file_.string() + ".1"),
      max_bytes_(max_bytes) {}

// Moving is for set-up (placing a sink in an optional or a struct), never concurrent with
// appends, so the moved-from object's mutex is not taken.
jsonl_file::jsonl_file(jsonl_file&& o) noexcept
    : file_(std::move(o.file_)),
      lock_file_(std::move(o.lock_file_)),
      rotated_file_(std::move(o.rotated_file_)),
      max_bytes_(o.max_bytes_),
      fd_(o.fd_),
      failures_(o.failures_) {
  o.fd_ = -1;
}

jsonl_file& jsonl_file::operator=(jsonl_file&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    file_ = std::move(o.file_);
    lock_file_ = std::move(o.lock_file_);
    rotated_file_ = std::move(o.rotated_file_);
    max_bytes_ = o.max_bytes_;
    fd_ = o.fd_;
    failures_ = o.failures_;
    o.fd_ = -1;
  }
  return *this;
}

jsonl_file::~jsonl_file() {
  if (fd_ >= 0) ::close(fd_);
}

std::uint64_t jsonl_file::failures() const noexcept {
  std::lock_guard<std::mutex> hold(mutex_);
  return failures_;
}

bool jsonl_file::record_failure(const char* what, int err) noexcept {
  std::lock_guard<std::mutex> hold(mutex_);
  return note_failure(what, err);
}

bool jsonl_file::note_failure(const char* what, int err) noexcept {
  if (failures_++ == 0) {
    try {
      spdlog::warn("cannot {} {}: {} (further failures on this file are only counted)", what,
                   file_.string(), std::strerror(err));
    } catch (...) {
      // Logging is best effort; the failure is counted either way.
    }
  }
  return false;
}

bool jsonl_file::open_file() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = open_for_writing(file_, O_WRONLY | O_APPEND);
  if (fd_ < 0) {
    return note_failure("open", errno);
  }
  return true;
}

bool jsonl_file::rotate_if_needed(std::size_t incoming) noexcept {
  struct stat mine {};
  if (::fstat(fd_, &mine) != 0) {
    return note_failure("stat", errno);
  }
  // A pipe or device (METRICS_FILE=/dev/stderr style) has nothing to rotate.
  if (!S_ISREG(mine.st_mode)) return true;
  if (static_cast<std::uint64_t>(mine.st_size) + incoming <= max_bytes_) return true;

  file_lock lock(lock_file_);
  if (!lock.held()) {
    return note_failure("lock for rotation", errno);
  }
  // Under the lock, the path names the live file. If it is not the one we hold, another
  // writer rotated already: reopen and append there.
  struct stat current {};
  const bool path_exists = ::stat(file_.c_str(), &current) == 0;
  const bool same_file =
      path_exists && current.st_dev == mine.st_dev && current.st_ino == mine.st_ino;
  if (same_file && static_cast<std::uint64_t>(current.st_size) > 0 &&
      static_cast<std::uint64_t>(current.st_size) + incoming > max_bytes_) {
    if (::rename(file_.c_str(), rotated_file_.c_str()) != 0) {
      return note_failure("rotate", errno);
    }
  } else if (same_file) {
    return true;
  }
  return open_file();
}

bool jsonl_file::append(std::string_view line) noexcept {
  std::lock_guard<std::mutex> hold(mutex_);
  std::string buf;
  try {
    buf.reserve(line.size() + 1);
    buf.append(line);
    buf.push_back('\n');
  } catch (...) {
    return note_failure("allocate a line for", ENOMEM);
  }
  if (fd_ < 0 && !open_file()) return false;
  if (!rotate_if_needed(buf.size())) return false;

  // One write(2) per line: O_APPEND makes seek-to-end and write one step, and regular-file
  // writes hold the inode lock, so lines from different processes never interleave.
  const char* p = buf.data();
  std::size_t left = buf.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return note_failure("write", errno);
    }
    // A short write only happens when the disk is full; finishing the line keeps the file
    // parseable line by line.
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace sluice::runtime
