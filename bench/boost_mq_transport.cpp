// boost::interprocess::message_queue configured as its users would: a queue of 1000 messages
// sized to the payload (not to sluice's slot), and a consumer that blocks in receive() when the
// queue is empty rather than polling try_receive (which only contends for the queue's mutex
// with the producers).
#include <unistd.h>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <string>

#include "bench/bench.hpp"

namespace sluice::bench {
namespace {

namespace bip = boost::interprocess;

class boost_sender : public sender {
 public:
  explicit boost_sender(const std::string& name) : q_(bip::open_only, name.c_str()) {}
  void send(const char* data, std::size_t size) override { q_.send(data, size, 0); }

 private:
  bip::message_queue q_;
};

class boost_receiver : public receiver {
 public:
  boost_receiver(const std::string& name, std::size_t slot)
      : q_(bip::open_only, name.c_str()), buf_(slot) {}
  std::size_t receive(bool sleeping, const on_message& fn) override {
    // Blocking (bounded, so a finished run is noticed) in either mode: the queue has no
    // cheaper way to wait, and a waiting receive() is how its users consume.
    (void)sleeping;
    std::size_t n = 0;
    bip::message_queue::size_type size = 0;
    unsigned prio = 0;
    const auto until =
        boost::posix_time::microsec_clock::universal_time() + boost::posix_time::milliseconds(100);
    if (!q_.timed_receive(buf_.data(), buf_.size(), size, prio, until)) return 0;
    fn(buf_.data(), size);
    ++n;
    while (n < 256 && q_.try_receive(buf_.data(), buf_.size(), size, prio)) {
      fn(buf_.data(), size);
      ++n;
    }
    return n;
  }

 private:
  bip::message_queue q_;
  std::vector<char> buf_;
};

class boost_mq_transport : public transport {
 public:
  std::string name() const override { return "boost_mq"; }
  std::uint64_t throughput_messages() const override { return 400'000; }
  void setup(const endpoint_config& cfg) override {
    name_ = "sluice-bench-mq-" + std::to_string(::getpid());
    slot_ = cfg.payload;  // messages sized to the payload, as a user would size the queue
    bip::message_queue::remove(name_.c_str());
    bip::message_queue q(bip::create_only, name_.c_str(), cfg.capacity, cfg.payload);
  }
  void teardown() override { bip::message_queue::remove(name_.c_str()); }
  std::unique_ptr<sender> open_sender(std::uint32_t) override {
    return std::make_unique<boost_sender>(name_);
  }
  std::unique_ptr<receiver> open_receiver() override {
    return std::make_unique<boost_receiver>(name_, slot_);
  }

 private:
  std::string name_;
  std::size_t slot_ = 0;
};

}  // namespace

std::unique_ptr<transport> make_boost_mq_transport() {
  return std::make_unique<boost_mq_transport>();
}

}  // namespace sluice::bench
