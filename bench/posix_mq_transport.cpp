// POSIX message queue (mq_open): the kernel's own bounded queue, one syscall per message.
#include <fcntl.h>
#include <mqueue.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench.hpp"

namespace sluice::bench {
namespace {

class posix_sender : public sender {
 public:
  explicit posix_sender(const std::string& name) : q_(::mq_open(name.c_str(), O_WRONLY)) {
    if (q_ == static_cast<mqd_t>(-1)) throw std::runtime_error("mq_open (sender) failed");
  }
  ~posix_sender() override { ::mq_close(q_); }
  void send(const char* data, std::size_t size) override {
    while (::mq_send(q_, data, size, 0) != 0 && errno == EINTR) {
    }
  }

 private:
  mqd_t q_;
};

class posix_receiver : public receiver {
 public:
  posix_receiver(const std::string& name, std::size_t msgsize)
      : q_(::mq_open(name.c_str(), O_RDONLY | O_NONBLOCK)), buf_(msgsize) {
    if (q_ == static_cast<mqd_t>(-1)) throw std::runtime_error("mq_open (receiver) failed");
  }
  ~posix_receiver() override { ::mq_close(q_); }
  std::size_t receive(bool sleeping, const on_message& fn) override {
    std::size_t n = 0;
    for (;;) {
      const ssize_t got = ::mq_receive(q_, buf_.data(), buf_.size(), nullptr);
      if (got < 0) break;
      fn(buf_.data(), static_cast<std::size_t>(got));
      if (++n == 256) return n;
    }
    if (n == 0 && sleeping) {
      // Blocking wait on a non-blocking descriptor: flip it for one timed receive.
      mq_attr attr{};
      attr.mq_flags = 0;
      ::mq_setattr(q_, &attr, nullptr);
      timespec until{};
      ::clock_gettime(CLOCK_REALTIME, &until);
      until.tv_nsec += 100'000'000;
      if (until.tv_nsec >= 1'000'000'000) {
        until.tv_sec += 1;
        until.tv_nsec -= 1'000'000'000;
      }
      const ssize_t got = ::mq_timedreceive(q_, buf_.data(), buf_.size(), nullptr, &until);
      attr.mq_flags = O_NONBLOCK;
      ::mq_setattr(q_, &attr, nullptr);
      if (got >= 0) {
        fn(buf_.data(), static_cast<std::size_t>(got));
        n = 1;
      }
    }
    return n;
  }

 private:
  mqd_t q_;
  std::vector<char> buf_;
};

class posix_mq_transport : public transport {
 public:
  std::string name() const override { return "posix_mq"; }
  std::uint64_t throughput_messages() const override { return 200'000; }
  void setup(const endpoint_config& cfg) override {
    name_ = "/sluice-bench-" + std::to_string(::getpid());
    msgsize_ = cfg.payload;
    ::mq_unlink(name_.c_str());
    mq_attr attr{};
    attr.mq_maxmsg = cfg.capacity;
    attr.mq_msgsize = static_cast<long>(cfg.payload);
    mqd_t q = ::mq_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (q == static_cast<mqd_t>(-1)) {
      // Without CAP_SYS_RESOURCE the queue is limited to fs.mqueue.msg_max messages.
      long max = 10;
      std::ifstream("/proc/sys/fs/mqueue/msg_max") >> max;
      attr.mq_maxmsg = max;
      q = ::mq_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    }
    if (q == static_cast<mqd_t>(-1)) throw std::runtime_error("mq_open (create) failed");
    ::mq_close(q);
  }
  void teardown() override { ::mq_unlink(name_.c_str()); }
  std::unique_ptr<sender> open_sender(std::uint32_t) override {
    return std::make_unique<posix_sender>(name_);
  }
  std::unique_ptr<receiver> open_receiver() override {
    return std::make_unique<posix_receiver>(name_, msgsize_);
  }

 private:
  std::string name_;
  std::size_t msgsize_ = 0;
};

}  // namespace

std::unique_ptr<transport> make_posix_mq_transport() {
  return std::make_unique<posix_mq_transport>();
}

}  // namespace sluice::bench
