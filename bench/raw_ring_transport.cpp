// raw_ring: a minimal Vyukov bounded MPSC ring in shared memory, per-message CAS claim and
// per-slot sequence, with no crash safety, no lanes, no doorbell and no validation. It is the
// floor: the gap between it and sluice is what sluice's safety costs.
#include <sched.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

#include "bench/bench.hpp"

namespace sluice::bench {
namespace {

constexpr std::uint64_t ring_size = 1024;  // power of two, like sluice's ring for 1000

struct alignas(64) ring_header {
  std::atomic<std::uint64_t> tail;
  char pad[56];
  std::uint64_t head;  // consumer only
};

struct slot {
  std::atomic<std::uint64_t> seq;
  std::uint32_t size;
  std::uint32_t pad;
  // payload follows
};

class raw_ring {
 public:
  raw_ring(void* base, std::size_t slot_size)
      : h_(static_cast<ring_header*>(base)), slot_size_(slot_size) {}
  slot* at(std::uint64_t pos) const {
    return reinterpret_cast<slot*>(reinterpret_cast<char*>(h_) + sizeof(ring_header) +
                                   (pos & (ring_size - 1)) * slot_size_);
  }
  ring_header* h_;
  std::size_t slot_size_;
};

class ring_sender : public sender {
 public:
  explicit ring_sender(raw_ring r) : r_(r) {}
  void send(const char* data, std::size_t size) override {
    std::uint64_t pos = r_.h_->tail.load(std::memory_order_relaxed);
    for (;;) {
      slot* s = r_.at(pos);
      const std::uint64_t seq = s->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::int64_t>(seq - pos);
      if (diff == 0) {
        if (r_.h_->tail.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          s->size = static_cast<std::uint32_t>(size);
          std::memcpy(reinterpret_cast<char*>(s) + sizeof(slot), data, size);
          s->seq.store(pos + 1, std::memory_order_release);
          return;
        }
      } else if (diff < 0) {
        ::sched_yield();  // full and no doorbell: give the core to the consumer
        pos = r_.h_->tail.load(std::memory_order_relaxed);
      } else {
        pos = r_.h_->tail.load(std::memory_order_relaxed);
      }
    }
  }

 private:
  raw_ring r_;
};

class ring_receiver : public receiver {
 public:
  explicit ring_receiver(raw_ring r) : r_(r) {}
  std::size_t receive(bool, const on_message& fn) override {
    std::size_t n = 0;
    while (n < 256) {
      const std::uint64_t pos = r_.h_->head;
      slot* s = r_.at(pos);
      if (s->seq.load(std::memory_order_acquire) != pos + 1) break;
      fn(reinterpret_cast<const char*>(s) + sizeof(slot), s->size);
      s->seq.store(pos + ring_size, std::memory_order_release);
      r_.h_->head = pos + 1;
      ++n;
    }
    return n;
  }

 private:
  raw_ring r_;
};

class raw_ring_transport : public transport {
 public:
  std::string name() const override { return "raw_ring"; }
  bool can_sleep() const override { return false; }
  std::uint64_t throughput_messages() const override { return 1'000'000; }
  void setup(const endpoint_config& cfg) override {
    slot_size_ = cfg.slot_size;
    bytes_ = sizeof(ring_header) + ring_size * slot_size_;
    base_ = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base_ == MAP_FAILED) throw std::runtime_error("mmap failed");
    raw_ring r(base_, slot_size_);
    for (std::uint64_t i = 0; i < ring_size; ++i) r.at(i)->seq.store(i, std::memory_order_relaxed);
  }
  void teardown() override { ::munmap(base_, bytes_); }
  std::unique_ptr<sender> open_sender(std::uint32_t) override {
    return std::make_unique<ring_sender>(raw_ring(base_, slot_size_));
  }
  std::unique_ptr<receiver> open_receiver() override {
    return std::make_unique<ring_receiver>(raw_ring(base_, slot_size_));
  }

 private:
  void* base_ = nullptr;
  std::size_t bytes_ = 0;
  std::size_t slot_size_ = 0;
};

}  // namespace

std::unique_ptr<transport> make_raw_ring_transport() {
  return std::make_unique<raw_ring_transport>();
}

}  // namespace sluice::bench
