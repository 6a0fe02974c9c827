#include "runtime/stop_signals.hpp"

#include <atomic>

namespace sluice::runtime {
namespace {

// A signal handler may only touch lock-free atomics, which this is.
std::atomic<int> received{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void remember_stop_signal(int sig) {
  received.store(sig, std::memory_order_relaxed);  // relaxed: a flag polled between batches
}

}  // namespace

void stop_on_signals() noexcept {
  struct sigaction sa {};
  sa.sa_handler = remember_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() noexcept {
  return stop_signal() != 0;
}

const std::atomic<int>& stop_flag() noexcept {
  return received;
}

int stop_signal() noexcept {
  return received.load(std::memory_order_relaxed);  // relaxed: see above
}

}  // namespace sluice::runtime
