#pragma once
// Who holds a lease: a pid and that process's start time (clock ticks since boot, field 22 of
// /proc/<pid>/stat) packed in one word, so a pid the kernel reused for another process is
// never taken for the holder. A lease whose holder is gone is reclaimed by the next acquire.
#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace sluice::governance {

// pid (22 bits) << 42 | start time (42 bits); nullopt when the process does not exist.
std::optional<std::uint64_t> holder_word(pid_t pid) noexcept;
pid_t holder_pid(std::uint64_t word) noexcept;
// True while the process the word names is running (a zombie counts as gone).
bool holder_alive(std::uint64_t word) noexcept;

}  // namespace sluice::governance
