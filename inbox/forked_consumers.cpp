#include "inbox/forked_consumers.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace sluice::inbox::detail {

struct forked_consumers::registry {
  std::mutex lock;
  std::vector<consumer::state*> held;
};

// Never destroyed: a fork handler or a consumer released during static destruction may
// still reach it.
forked_consumers::registry& forked_consumers::the_registry() noexcept {
  static auto* r = new registry;
  return *r;
}

// Held across fork, so the child finds the list whole; in the child only the forking thread
// exists, so the list is its alone.
void forked_consumers::before_fork() noexcept {
  the_registry().lock.lock();
}
void forked_consumers::after_fork_in_parent() noexcept {
  the_registry().lock.unlock();
}
void forked_consumers::after_fork_in_child() noexcept {
  registry& r = the_registry();
  for (consumer::state* s : r.held) {
    ::close(s->lock_fd);
    s->lock_fd = -1;
    s->armed_bell = 0;  // the parent's bell: disarming it here would take it from the parent
    s->in->consuming = false;
  }
  r.held.clear();
  r.lock.unlock();
}

int forked_consumers::open_lock(consumer::state* s, const std::filesystem::path& path) {
  static const bool handlers = [] {
    (void)::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    return true;
  }();
  (void)handlers;
  registry& r = the_registry();
  std::lock_guard<std::mutex> hold(r.lock);  // fork waits for it in before_fork
  r.held.reserve(r.held.size() + 1);         // a bad_alloc leaves nothing open
  const int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  s->lock_fd = fd;
  r.held.push_back(s);
  return fd;
}

void forked_consumers::remove(consumer::state* s) noexcept {
  registry& r = the_registry();
  std::lock_guard<std::mutex> hold(r.lock);
  r.held.erase(std::remove(r.held.begin(), r.held.end(), s), r.held.end());
}

}  // namespace sluice::inbox::detail
