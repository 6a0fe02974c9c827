// The SIGBUS guard behind shared_mapping (see shared_mapping.hpp for the contract).
//
// The handler may run in any thread at any time, so it only reads a table that is never freed
// and never moves: chunks of entries, allocated under a mutex by map() and published with a
// release store, read with acquire loads. An entry is free when its size is 0; map() fills
// base before size, and reset() clears size before it unmaps, so the handler never matches a
// range that is not (or no longer) mapped by its owner.
#include "inbox/files/shared_mapping.hpp"

#include <signal.h>
#include <sys/mman.h>

#include <cerrno>
#include <mutex>

namespace sluice::inbox {
namespace {

struct guarded_range {
  std::atomic<std::uintptr_t> base{0};
  std::atomic<std::size_t> size{0};  // 0: entry free
  std::atomic<std::uint32_t> broken{0};
};

constexpr int chunk_entries = 256;
constexpr int max_chunks = 256;  // 65,536 mappings in one process

std::atomic<guarded_range*> chunks[max_chunks] = {};
std::atomic<int> chunks_used{0};
std::mutex table_mutex;  // serialises map() and reset(), never taken by the handler
struct sigaction previous_action {};

guarded_range& entry(int slot) noexcept {
  // acquire: pairs with the release that published the chunk.
  return chunks[slot / chunk_entries].load(std::memory_order_acquire)[slot % chunk_entries];
}

void forward_to_previous(int sig, siginfo_t* info, void* context) noexcept {
  if ((previous_action.sa_flags & SA_SIGINFO) != 0 && previous_action.sa_sigaction != nullptr) {
    previous_action.sa_sigaction(sig, info, context);
    return;
  }
  if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
    previous_action.sa_handler(sig);
    return;
  }
  if (info->si_code <= 0) {
    // Sent by a process (kill, raise), not a fault: ignored, or delivered with the default
    // action as soon as we return.
    if (previous_action.sa_handler == SIG_IGN) return;
    ::sigaction(SIGBUS, &previous_action, nullptr);
    ::raise(sig);
    return;
  }
  // A fault outside every guarded mapping: reinstall the default; the access runs again on
  // return, faults again, and the process dies of SIGBUS exactly as it would have without us.
  ::sigaction(SIGBUS, &previous_action, nullptr);
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  // si_code <= 0: sent by a process (kill, raise), not a fault; si_addr means nothing then.
  const int used = info->si_code > 0 ? chunks_used.load(std::memory_order_acquire) : 0;
  for (int slot = 0; slot < used * chunk_entries; ++slot) {
    guarded_range& r = entry(slot);
    const std::size_t size = r.size.load(std::memory_order_acquire);
    const std::uintptr_t base = r.base.load(std::memory_order_relaxed);  // relaxed: after size
    if (size == 0 || addr < base || addr - base >= size) continue;
    // The whole range, not only the faulting page: a process that went on reading real pages
    // beside a zero page would act on a mix of two states.
    void* p = ::mmap(reinterpret_cast<void*>(base), size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) break;
    r.broken.store(1, std::memory_order_release);
    errno = saved_errno;
    return;
  }
  errno = saved_errno;
  forward_to_previous(sig, info, context);
}

void install_handler_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &previous_action);
  });
}

// A free entry's index, growing the table when every entry is taken; -1 when it is full.
int claim_slot(std::uintptr_t base, std::size_t size) {
  std::lock_guard<std::mutex> lock(table_mutex);
  const int used = chunks_used.load(std::memory_order_relaxed);  // relaxed: under the mutex
  for (int slot = 0; slot < used * chunk_entries; ++slot) {
    guarded_range& r = entry(slot);
    if (r.size.load(std::memory_order_relaxed) != 0) continue;  // relaxed: under the mutex
    r.base.store(base, std::memory_order_relaxed);
    r.broken.store(0, std::memory_order_relaxed);
    r.size.store(size, std::memory_order_release);  // publishes base to the handler
    return slot;
  }
  if (used == max_chunks) return -1;
  auto* chunk = new guarded_range[chunk_entries];  // never freed: the handler may read it
  chunk[0].base.store(base, std::memory_order_relaxed);
  chunk[0].size.store(size, std::memory_order_relaxed);
  chunks[used].store(chunk, std::memory_order_release);
  chunks_used.store(used + 1, std::memory_order_release);
  return used * chunk_entries;
}

}  // namespace

bool shared_mapping::map(int fd, std::size_t size) noexcept {
  reset();
  install_handler_once();
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return false;
  int slot = -1;
  try {
    slot = claim_slot(reinterpret_cast<std::uintptr_t>(p), size);
  } catch (...) {  // std::bad_alloc or a mutex error: refuse rather than map unguarded
  }
  if (slot < 0) {
    ::munmap(p, size);
    errno = ENOMEM;
    return false;
  }
  base_ = static_cast<std::uint8_t*>(p);
  size_ = size;
  slot_ = slot;
  broken_ = &entry(slot).broken;
  return true;
}

shared_mapping::shared_mapping(shared_mapping&& o) noexcept
    : base_(o.base_), size_(o.size_), slot_(o.slot_), broken_(o.broken_) {
  o.base_ = nullptr;
  o.size_ = 0;
  o.slot_ = -1;
  o.broken_ = nullptr;
}

shared_mapping& shared_mapping::operator=(shared_mapping&& o) noexcept {
  if (this != &o) {
    reset();
    base_ = o.base_;
    size_ = o.size_;
    slot_ = o.slot_;
    broken_ = o.broken_;
    o.base_ = nullptr;
    o.size_ = 0;
    o.slot_ = -1;
    o.broken_ = nullptr;
  }
  return *this;
}

shared_mapping::~shared_mapping() {
  reset();
}

void shared_mapping::reset() noexcept {
  if (base_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(table_mutex);
    entry(slot_).size.store(0, std::memory_order_release);  // before the unmap, see above
  }
  ::munmap(base_, size_);
  base_ = nullptr;
  size_ = 0;
  slot_ = -1;
}

}  // namespace sluice::inbox
