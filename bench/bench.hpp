#pragma once
// sluice-bench: shared pieces. A transport is one way of moving messages between processes;
// the driver (driver.cpp) forks real producer and consumer processes around it and measures.
// To add a transport: one file with a class derived from `transport` and a make_* function
// listed in transports(). To add a verb (`sluice-bench <verb>`): one file with a static
// `verb_registration` and one line in CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sluice::bench {

struct endpoint_config {
  std::uint32_t producers = 1;
  std::uint32_t payload = 64;  // bytes per message
  std::uint32_t slot_size = 4096;
  std::uint32_t capacity = 1000;
};

// Called once per received message with its payload bytes.
using on_message = std::function<void(const char* data, std::size_t size)>;

class sender {
 public:
  virtual ~sender() = default;
  // Sends one message, waiting in the transport's own way while the receiver is full.
  virtual void send(const char* data, std::size_t size) = 0;
  // Sends `count` messages of `size` bytes laid out back to back; transports with a batch
  // API override this.
  virtual void send_many(const char* data, std::size_t size, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) send(data + i * size, size);
  }
};

class receiver {
 public:
  virtual ~receiver() = default;
  // Hands every message available now to fn and returns how many. With none available:
  // spinning returns 0 at once, sleeping blocks in the transport's wait (bounded, ~100 ms).
  virtual std::size_t receive(bool sleeping, const on_message& fn) = 0;
};

class transport {
 public:
  virtual ~transport() = default;
  virtual std::string name() const = 0;
  // false when the consumer has no way to sleep until a message comes (raw_ring).
  virtual bool can_sleep() const { return true; }
  // Messages per throughput run, so slow transports finish in bounded time.
  virtual std::uint64_t throughput_messages() const = 0;
  // In the parent before forking; teardown after every child exited.
  virtual void setup(const endpoint_config& cfg) = 0;
  virtual void teardown() = 0;
  // In the child processes, after fork.
  virtual std::unique_ptr<sender> open_sender(std::uint32_t index) = 0;
  virtual std::unique_ptr<receiver> open_receiver() = 0;
};

std::unique_ptr<transport> make_sluice_transport(bool batched);
std::unique_ptr<transport> make_boost_mq_transport();
std::unique_ptr<transport> make_posix_mq_transport();
std::unique_ptr<transport> make_uds_transport();
std::unique_ptr<transport> make_file_dir_transport();
std::unique_ptr<transport> make_raw_ring_transport();

struct case_result {
  std::string transport;
  std::uint32_t producers = 0;
  std::uint32_t payload = 0;
  double msgs_per_s = 0;
  double p50_us = 0;  // one-way latency, consumer spinning
  double p99_us = 0;
  double p50_sleep_us = -1;  // consumer sleeping in the transport's wait; -1: not possible
  double p99_sleep_us = -1;
};

struct run_options {
  int runs = 3;                          // each measurement is the median of this many runs
  std::uint32_t latency_samples = 2000;  // per producer per run
  // Unmeasured messages per producer before the samples (driver.cpp): one lap of a
  // 1000-slot ring, so the samples see warm mappings and caches.
  std::uint32_t latency_warmup = 1024;
  // --pin: the consumer alone on the first CPU, the producers on the others, so the scheduler
  // never puts a producer on the spinning consumer's core. Needs two or more CPUs.
  bool pin_consumer = false;
};

// Throughput and latency of one transport for one (producers, payload) case.
case_result measure(transport& t, const endpoint_config& cfg, const run_options& opts);

// sluice-bench <verb> [args]: verbs register themselves from their own file.
using verb_fn = int (*)(int argc, char** argv);
struct verb_registration {
  verb_registration(const char* name, const char* help, verb_fn fn);
};
struct verb {
  const char* name;
  const char* help;
  verb_fn fn;
};
std::vector<verb>& verbs();

}  // namespace sluice::bench
