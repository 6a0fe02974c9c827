#pragma once
// A MAP_SHARED mapping of a file that cannot kill its process.
//
// Touching a page of a shared file mapping raises SIGBUS when the page lies past the end of
// the file (someone truncated it) or when tmpfs has no memory left to back a page that was
// never allocated (a full /dev/shm). Either would kill a reader that merely looks at an inbox.
// Every shared_mapping is registered with one process-wide SIGBUS handler: a fault inside a
// registered mapping replaces the whole mapping with private zero pages (so the instruction
// completes and no later access faults) and marks it broken; a fault anywhere else goes to the
// handler that was installed before ours (by default: the process dies, as it would have).
// Callers check broken() after touching the mapping and turn it into an error; nothing written
// after the fault reaches the file, so a half-done operation looks like one whose process died
// at that point, which every shared structure in sluice already survives.
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sluice::inbox {

class shared_mapping {
 public:
  shared_mapping() = default;
  // Maps [0, size) of fd read-write and shared. The descriptor may be closed afterwards.
  // Returns false with errno set when mmap failed (nothing is mapped then).
  bool map(int fd, std::size_t size) noexcept;
  shared_mapping(shared_mapping&&) noexcept;
  shared_mapping& operator=(shared_mapping&&) noexcept;
  shared_mapping(const shared_mapping&) = delete;
  shared_mapping& operator=(const shared_mapping&) = delete;
  ~shared_mapping();

  std::uint8_t* data() const noexcept { return base_; }
  std::size_t size() const noexcept { return size_; }
  // True once an access faulted: the file shrank under us or its memory could not be backed.
  // Everything read through the mapping since may be zeros; nothing written reached the file.
  // Inline: every push and pop asks, so it is one load, not a call into the handler's table.
  bool broken() const noexcept {
    // acquire: pairs with the handler's release store of the flag.
    return broken_ != nullptr && broken_->load(std::memory_order_acquire) != 0;
  }

 private:
  void reset() noexcept;
  std::uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
  int slot_ = -1;                                       // index in the handler's table
  const std::atomic<std::uint32_t>* broken_ = nullptr;  // the entry's flag; entries never move
};

}  // namespace sluice::inbox
