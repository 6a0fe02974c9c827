#include "actors/bridge/fd_watch.hpp"

#include <fcntl.h>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/event_handler.hpp>
#include <caf/io/network/operation.hpp>
#include <utility>

namespace sluice::actors {

namespace net = caf::io::network;

// The loop holds a raw pointer to its handlers, in epoll and in the changes it applies at the
// end of each round; a handler freed while one of those still names it would be used after
// being freed. So the watch only asks for its removal, and the handler frees itself when the
// loop reports it removed (removed_from_loop), or at once if it never got into the loop.
class fd_watch::handler final : public net::event_handler {
 public:
  handler(net::default_multiplexer& mx, int fd, std::function<void()> on_readable)
      : net::event_handler(mx, fd), on_readable_(std::move(on_readable)) {
    state_.reading = true;  // else the loop takes the channel for shut and skips read events
  }

  void start() { activate(); }
  void retire() {
    on_readable_ = nullptr;
    retired_ = true;
    passivate();
    // No registration to undo (added and removed within one round, or never added): the loop
    // will not call removed_from_loop, and names this handler nowhere.
    if (eventbf() == 0) delete this;
  }

  void handle_event(net::operation op) override {
    if (op == net::operation::read && on_readable_) on_readable_();
  }
  void removed_from_loop(net::operation op) override {
    if (op == net::operation::read && retired_) delete this;
  }
  void graceful_shutdown() override {}

 private:
  std::function<void()> on_readable_;
  bool retired_ = false;
};

fd_watch::fd_watch(caf::actor_system& sys, int fd, std::function<void()> on_readable) {
  // The handler's own copy: event_handler's destructor closes it.
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return;
  h_ = new handler(static_cast<net::default_multiplexer&>(sys.middleman().backend()), own,
                   std::move(on_readable));
  h_->start();
}

fd_watch::~fd_watch() {
  if (h_ != nullptr) h_->retire();
}

}  // namespace sluice::actors
