#pragma once
// A plain TCP client for tests that play a hostile or half-speaking peer: connect, write raw
// bytes, and await (with a deadline, by poll) data or the far end closing the connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::test {

class raw_socket {
 public:
  // Connects to 127.0.0.1:port; valid() is false if that failed.
  explicit raw_socket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  raw_socket(raw_socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;
  raw_socket& operator=(raw_socket&&) = delete;
  ~raw_socket() {
    if (fd_ >= 0) ::close(fd_);
  }

  [[nodiscard]] bool valid() const { return fd_ >= 0; }

  // False once the far end has closed (or reset) the connection.
  bool send(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Exactly n bytes, or nullopt when the connection closed or the deadline passed first.
  std::optional<std::string> receive(std::size_t n, std::chrono::milliseconds timeout) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < n) {
      if (!readable_before(deadline)) return std::nullopt;
      char buf[4096];
      const auto k = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return std::nullopt;
      out.append(buf, static_cast<std::size_t>(k));
    }
    return out;
  }

  // True once the far end closed the connection (data before the close is read and dropped);
  // false if it was still open at the deadline.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!readable_before(deadline)) return false;
      char buf[4096];
      const auto k = ::recv(fd_, buf, sizeof buf, 0);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return true;
    }
  }

  // True if the far end has not closed the connection by now (does not wait).
  bool open_now() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return true;
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }

 private:
  bool readable_before(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
      if (r > 0) return true;
      if (r < 0 && errno == EINTR) continue;
      if (r == 0 && std::chrono::steady_clock::now() >= deadline) return false;
    }
  }

  int fd_ = -1;
};

// A CAF BASP header (caf/io/basp/header.hpp, big-endian) announcing `payload_len` bytes.
inline std::string basp_header(std::uint8_t operation, std::uint32_t payload_len) {
  std::string h(32, '\0');
  h[0] = static_cast<char>(operation);
  for (int i = 0; i < 4; ++i)
    h[static_cast<std::size_t>(4 + i)] = static_cast<char>((payload_len >> (24 - 8 * i)) & 0xFF);
  return h;
}

}  // namespace sluice::test
