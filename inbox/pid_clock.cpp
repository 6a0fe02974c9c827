// Cached pid and clock helpers (see process.hpp).
#include "inbox/pid_clock.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>

namespace sluice::inbox::detail {
namespace {

// relaxed: a plain cache of a per-process constant; racing initialisers store the same value.
std::atomic<pid_t> cached_pid{0};

void forget_pid() noexcept {
  cached_pid.store(0, std::memory_order_relaxed);
}

pid_t load_pid() noexcept {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, forget_pid);
    return true;
  }();
  (void)registered;
  const pid_t pid = ::getpid();
  cached_pid.store(pid, std::memory_order_relaxed);
  return pid;
}

}  // namespace

pid_t self_pid() noexcept {
  const pid_t pid = cached_pid.load(std::memory_order_relaxed);
  return pid != 0 ? pid : load_pid();
}

bool process_alive(pid_t pid) noexcept {
  if (pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

std::uint64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace sluice::inbox::detail
