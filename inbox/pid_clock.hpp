#pragma once
// Process identity and clocks for the hot path: getpid() is a syscall in current glibc, so the
// pid is cached and refreshed in fork children (pthread_atfork).
#include <sys/types.h>

#include <cstdint>

namespace sluice::inbox::detail {

// This process's pid, without a syscall after the first call.
pid_t self_pid() noexcept;

// false only when the kernel says the process does not exist (ESRCH); a pid we may not
// signal (EPERM) is alive.
bool process_alive(pid_t pid) noexcept;

std::uint64_t realtime_ns() noexcept;
std::uint64_t monotonic_ns() noexcept;

}  // namespace sluice::inbox::detail
