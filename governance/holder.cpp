#include "governance/holder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace sluice::governance {
namespace {

constexpr int start_bits = 42;
constexpr std::uint64_t start_mask = (1ull << start_bits) - 1;
constexpr std::uint64_t pid_mask = (1ull << 22) - 1;

struct proc_stat {
  char state;
  std::uint64_t start;
};

std::optional<proc_stat> read_stat(pid_t pid) noexcept {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = 0;
  // The command name may hold spaces and parentheses: fields restart after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return std::nullopt;
  p += 2;
  proc_stat s{*p, 0};
  // Field 3 is the state; the start time is field 22.
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return std::nullopt;
    ++p;
  }
  s.start = std::strtoull(p, nullptr, 10);
  return s;
}

}  // namespace

std::optional<std::uint64_t> holder_word(pid_t pid) noexcept {
  if (pid <= 0 || static_cast<std::uint64_t>(pid) > pid_mask) return std::nullopt;
  const auto s = read_stat(pid);
  if (!s) return std::nullopt;
  return (static_cast<std::uint64_t>(pid) << start_bits) | (s->start & start_mask);
}

pid_t holder_pid(std::uint64_t word) noexcept {
  return static_cast<pid_t>((word >> start_bits) & pid_mask);
}

bool holder_alive(std::uint64_t word) noexcept {
  const pid_t pid = holder_pid(word);
  if (pid <= 0) return false;
  const auto s = read_stat(pid);
  if (!s || s->state == 'Z' || s->state == 'X') return false;
  return (s->start & start_mask) == (word & start_mask);
}

}  // namespace sluice::governance
