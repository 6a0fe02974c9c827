#include "inbox/bell.hpp"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

namespace sluice::inbox {

namespace {

// The abstract address of the bell called `name`: "\0sluice-bell-<16 hex digits>".
struct bell_address {
  sockaddr_un addr{};
  socklen_t length = 0;

  explicit bell_address(std::uint64_t name) noexcept {
    addr.sun_family = AF_UNIX;
    char text[32];
    const int n = std::snprintf(text, sizeof text, "sluice-bell-%016llx",
                                static_cast<unsigned long long>(name));
    std::memcpy(addr.sun_path + 1, text, static_cast<std::size_t>(n));
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
  }
};

std::uint64_t random_name() noexcept {
  std::uint64_t v = 0;
  while (v == 0) {  // 0 means "no bell" in the header
    if (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) v = 0;
  }
  return v;
}

int open_socket() noexcept {
  return ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

}  // namespace

result<bell> bell::open() noexcept {
  const int fd = open_socket();
  if (fd < 0) {
    return error{errc::io_error,
                 std::string("cannot create a bell socket: ") + std::strerror(errno)};
  }
  // Two names drawn at random do not collide in practice; a few tries cover a squatter.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint64_t name = random_name();
    const bell_address a(name);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.length) == 0)
      return bell(fd, name);
    if (errno != EADDRINUSE) break;
  }
  const int err = errno;
  ::close(fd);
  return error{errc::io_error, std::string("cannot bind a bell socket: ") + std::strerror(err)};
}

bell::bell(bell&& other) noexcept : fd_(other.fd_), name_(other.name_) {
  other.fd_ = -1;
  other.name_ = 0;
}

bell& bell::operator=(bell&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    name_ = other.name_;
    other.fd_ = -1;
    other.name_ = 0;
  }
  return *this;
}

bell::~bell() {
  if (fd_ >= 0) ::close(fd_);
}

void bell::drain() const noexcept {
  while (take_one()) {
  }
}

bool bell::take_one() const noexcept {
  char buf[64];
  for (;;) {
    if (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

void detail::ring_bell(std::uint64_t name) noexcept {
  // One unbound socket per process sends to every bell (created on first use).
  static const int sender = open_socket();
  if (sender < 0) return;
  const bell_address a(name);
  const char byte = 1;
  (void)::sendto(sender, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&a.addr), a.length);
}

}  // namespace sluice::inbox
