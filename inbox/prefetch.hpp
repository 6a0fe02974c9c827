#pragma once
// Cache hints for the inbox's hot paths (push.cpp, consume.cpp). Hints only: they never change
// what a program computes, and a CPU without them treats them as no-ops.
#include <cstddef>

namespace sluice::inbox::detail {

inline constexpr std::size_t cache_line_bytes = 64;

// Asks for a line in exclusive state, so a later store to it does not wait for ownership.
// GCC emits a plain read prefetch for __builtin_prefetch(p, 1) unless built for a CPU with
// PREFETCHW; the instruction itself exists on every x86-64 this runs on (older Intel parts
// decode it as a no-op).
inline void prefetch_for_write(const void* p) noexcept {
#if defined(__x86_64__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1);
#endif
}

inline void prefetch_for_read(const void* p) noexcept {
  __builtin_prefetch(p, 0);
}

}  // namespace sluice::inbox::detail
