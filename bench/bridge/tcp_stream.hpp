#pragma once
// A blocking TCP connection to 127.0.0.1 with a read buffer, enough to speak the Redis and
// NATS text protocols in sluice-bench bridge (as their client libraries do: TCP_NODELAY,
// whole commands written at once, replies parsed from a buffer).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::bench {

class tcp_stream {
 public:
  explicit tcp_stream(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    const int one = 1;
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  tcp_stream(const tcp_stream&) = delete;
  tcp_stream& operator=(const tcp_stream&) = delete;
  ~tcp_stream() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] bool ok() const { return fd_ >= 0; }

  bool write_all(std::string_view s) {
    while (!s.empty()) {
      const auto n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // A line without its "\r\n"; nullopt when the connection closed.
  std::optional<std::string> read_line() {
    for (;;) {
      const auto at = buf_.find("\r\n", pos_);
      if (at != std::string::npos) {
        std::string line = buf_.substr(pos_, at - pos_);
        pos_ = at + 2;
        return line;
      }
      if (!fill()) return std::nullopt;
    }
  }
  // Exactly n bytes (then the caller reads the "\r\n" after them as an empty line).
  std::optional<std::string> read_exact(std::size_t n) {
    while (buf_.size() - pos_ < n)
      if (!fill()) return std::nullopt;
    std::string out = buf_.substr(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  bool fill() {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    char chunk[65536];
    for (;;) {
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  std::string buf_;
  std::size_t pos_ = 0;
};

}  // namespace sluice::bench
