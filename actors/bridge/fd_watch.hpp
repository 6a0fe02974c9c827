#pragma once
// Tells a link actor that a file descriptor became readable, from CAF's own I/O thread (the
// epoll loop of caf::io::network::default_multiplexer, where the link actors run as brokers),
// with no thread of its own: a wake-up that costs one epoll event instead of a futex wake-up of
// a helper thread plus a write into CAF's multiplexer pipe.
//
// Create and destroy it only on CAF's I/O thread, i.e. inside a broker's handlers or state
// (the multiplexer's registration lists are that thread's alone). The watch registers a
// duplicate of the descriptor, closed once the loop has let go of it: the loop removes a
// registration only at the end of its round, and removing a descriptor already closed would
// fail there (CAF aborts on that). So the caller may close its own at once after the watch.
#include <caf/fwd.hpp>
#include <functional>

namespace sluice::actors {

class fd_watch {
 public:
  // Calls on_readable on the I/O thread each time the loop finds fd readable (level-triggered:
  // it must drain fd, or it is called again at once). on_readable must not block, and must not
  // destroy this watch.
  fd_watch(caf::actor_system& sys, int fd, std::function<void()> on_readable);
  // false when the descriptor could not be duplicated: then nothing is watched.
  bool watching() const noexcept { return h_ != nullptr; }
  ~fd_watch();
  fd_watch(const fd_watch&) = delete;
  fd_watch& operator=(const fd_watch&) = delete;

 private:
  class handler;
  handler* h_ = nullptr;  // freed by the loop once it has let go of it (see fd_watch.cpp)
};

}  // namespace sluice::actors
