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

// The two halves of a doorbell handshake (a Dekker pair): the ringer makes its change (a
// publish, a commit), then reads the sleeper count; the sleeper bumps the count, then
// re-checks the condition. Each side needs a StoreLoad barrier between its two steps so at
// least one sees the other. GCC refuses atomic_thread_fence under TSan, so TSan builds use
// a locked read-modify-write on the counter instead (the same barrier on x86, and one TSan
// understands); the fence is cheaper because it writes nothing shared.
inline std::uint32_t waiters_after_change(std::atomic<std::uint32_t>& waiters) noexcept {
#if defined(__SANITIZE_THREAD__)
  return waiters.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return waiters.load(std::memory_order_relaxed);  // relaxed: ordered by the fence above
#endif
}

inline void register_waiter(std::atomic<std::uint32_t>& waiters) noexcept {
  waiters.fetch_add(1, std::memory_order_seq_cst);
#if !defined(__SANITIZE_THREAD__)
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// One CPU pause, so a spinning waiter gives the sibling hyperthread room.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace sluice::inbox::detail
