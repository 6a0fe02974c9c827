// The sluice inbox itself: try_push / try_push_batch, pop_batch + commit, futex doorbells.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "bench/bench.hpp"
#include "inbox/inbox.hpp"

namespace sluice::bench {
namespace {

using namespace std::chrono_literals;

class sluice_sender : public sender {
 public:
  explicit sluice_sender(inbox::inbox in) : in_(std::move(in)) {}
  void send(const char* data, std::size_t size) override {
    const inbox::message_view m{"bench", "b", std::string_view(data, size),
                                inbox::priority::normal};
    while (in_.try_push(m) != inbox::push_result::ok) (void)in_.wait_not_full(100ms);
  }
  void send_many(const char* data, std::size_t size, std::size_t count) override {
    views_.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      views_[i] = inbox::message_view{"bench", "b", std::string_view(data + i * size, size),
                                      inbox::priority::normal};
    }
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = in_.try_push_batch(views_.data() + done, count - done);
      done += n;
      if (n == 0) (void)in_.wait_not_full(100ms);
    }
  }

 private:
  inbox::inbox in_;
  std::vector<inbox::message_view> views_;
};

// Sends one message per try_push even in the throughput run, to show what batching buys.
class sluice_single_sender : public sluice_sender {
 public:
  using sluice_sender::sluice_sender;
  void send_many(const char* data, std::size_t size, std::size_t count) override {
    for (std::size_t i = 0; i < count; ++i) send(data + i * size, size);
  }
};

class sluice_receiver : public receiver {
 public:
  sluice_receiver(inbox::inbox in, inbox::consumer c)
      : in_(std::move(in)), c_(std::move(c)), buf_(256) {}
  std::size_t receive(bool sleeping, const on_message& fn) override {
    const std::size_t n = c_.pop_batch(buf_.data(), buf_.size());
    for (std::size_t i = 0; i < n; ++i) fn(buf_[i].payload.data(), buf_[i].payload.size());
    if (n != 0) {
      c_.commit();
    } else if (sleeping) {
      (void)in_.wait_not_empty(100ms);
    }
    return n;
  }

 private:
  inbox::inbox in_;
  inbox::consumer c_;
  std::vector<inbox::received_message> buf_;
};

class sluice_transport : public transport {
 public:
  explicit sluice_transport(bool batched) : batched_(batched) {}
  std::string name() const override { return batched_ ? "sluice" : "sluice_single"; }
  std::uint64_t throughput_messages() const override { return 1'000'000; }
  void setup(const endpoint_config& cfg) override {
    dir_ = std::filesystem::path("/dev/shm") / ("sluice-bench-" + std::to_string(::getpid()));
    auto in = inbox::inbox::open_or_create(
        dir_, "bench", inbox::create_options{cfg.capacity, 64, cfg.slot_size, 0600});
    if (!in) throw std::runtime_error(in.err().message);
  }
  void teardown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<sender> open_sender(std::uint32_t) override {
    auto in = inbox::inbox::open(dir_, "bench");
    if (!in) throw std::runtime_error(in.err().message);
    if (batched_) return std::make_unique<sluice_sender>(std::move(in).value());
    return std::make_unique<sluice_single_sender>(std::move(in).value());
  }
  std::unique_ptr<receiver> open_receiver() override {
    auto in = inbox::inbox::open(dir_, "bench");
    if (!in) throw std::runtime_error(in.err().message);
    auto c = in->attach_consumer();
    if (!c) throw std::runtime_error(c.err().message);
    return std::make_unique<sluice_receiver>(std::move(in).value(), std::move(c).value());
  }

 private:
  bool batched_;
  std::filesystem::path dir_;
};

}  // namespace

std::unique_ptr<transport> make_sluice_transport(bool batched) {
  return std::make_unique<sluice_transport>(batched);
}

}  // namespace sluice::bench
