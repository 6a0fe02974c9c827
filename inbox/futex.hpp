#pragma once
// Shared (not PRIVATE) futex calls on 32-bit words in the inbox header: the waiters are in
// different processes, each with its own mapping of the file.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace sluice::inbox::detail {

// Sleeps while *word == expected, at most timeout. Returns when woken, on timeout, on a
// signal, or at once when the word already differs; callers re-check their condition.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::nanoseconds timeout) noexcept;
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

// One CPU pause, so a spinning waiter gives the sibling hyperthread room.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace sluice::inbox::detail
