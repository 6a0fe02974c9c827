#include "backpressure/random_source.hpp"

#include <time.h>
#include <unistd.h>

#include <functional>
#include <thread>

namespace sluice::backpressure {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class splitmix_source final : public random_source {
 public:
  std::uint64_t uniform(std::uint64_t max_inclusive) noexcept override {
    const pid_t pid = getpid();
    if (pid != seeded_pid_) reseed(pid);
    const std::uint64_t x = splitmix64(state_);
    if (max_inclusive == UINT64_MAX) return x;
    // Modulo bias is below 2^-40 for the ranges used here (at most seconds in ns).
    return x % (max_inclusive + 1);
  }

 private:
  void reseed(pid_t pid) noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    state_ = static_cast<std::uint64_t>(pid) * 0x100000001b3ULL ^
             std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
             static_cast<std::uint64_t>(ts.tv_nsec) ^ (static_cast<std::uint64_t>(ts.tv_sec) << 32);
    seeded_pid_ = pid;
  }

  std::uint64_t state_ = 0;
  pid_t seeded_pid_ = 0;
};

}  // namespace

random_source& default_random() noexcept {
  thread_local splitmix_source source;
  return source;
}

}  // namespace sluice::backpressure
