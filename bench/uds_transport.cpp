// Unix domain socketpair (SOCK_SEQPACKET): every producer writes records to one end, the
// consumer reads the other; the kernel copies twice and blocks a writer when the buffer fills.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

#include "bench/bench.hpp"

namespace sluice::bench {
namespace {

class uds_sender : public sender {
 public:
  explicit uds_sender(int fd) : fd_(fd) {}
  void send(const char* data, std::size_t size) override {
    while (::send(fd_, data, size, 0) < 0) {
    }
  }

 private:
  int fd_;
};

class uds_receiver : public receiver {
 public:
  uds_receiver(int fd, std::size_t size) : fd_(fd), buf_(size) {}
  std::size_t receive(bool sleeping, const on_message& fn) override {
    std::size_t n = 0;
    for (;;) {
      const ssize_t got = ::recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (got <= 0) break;
      fn(buf_.data(), static_cast<std::size_t>(got));
      if (++n == 256) return n;
    }
    if (n == 0 && sleeping) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 100);
    }
    return n;
  }

 private:
  int fd_;
  std::vector<char> buf_;
};

class uds_transport : public transport {
 public:
  std::string name() const override { return "uds"; }
  std::uint64_t throughput_messages() const override { return 200'000; }
  void setup(const endpoint_config& cfg) override {
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds_) != 0)
      throw std::runtime_error("socketpair failed");
    size_ = cfg.payload;
  }
  void teardown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::unique_ptr<sender> open_sender(std::uint32_t) override {
    return std::make_unique<uds_sender>(fds_[0]);
  }
  std::unique_ptr<receiver> open_receiver() override {
    return std::make_unique<uds_receiver>(fds_[1], size_);
  }

 private:
  int fds_[2] = {-1, -1};
  std::size_t size_ = 0;
};

}  // namespace

std::unique_ptr<transport> make_uds_transport() {
  return std::make_unique<uds_transport>();
}

}  // namespace sluice::bench
