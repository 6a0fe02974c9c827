#pragma once
// SIGINT and SIGTERM blocked in this thread for the guard's lifetime. A long-running verb takes
// it before the actor system starts its threads (they inherit the mask), then receives the
// signals synchronously (sigwait or a signalfd on `set`), so a stop is an ordinary event
// instead of a handler racing the actors.
#include <signal.h>

namespace sluice::actors {

struct blocked_stop_signals {
  sigset_t set;
  sigset_t previous;
  blocked_stop_signals() noexcept {
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &set, &previous);
  }
  ~blocked_stop_signals() { ::pthread_sigmask(SIG_SETMASK, &previous, nullptr); }
  blocked_stop_signals(const blocked_stop_signals&) = delete;
  blocked_stop_signals& operator=(const blocked_stop_signals&) = delete;
};

}  // namespace sluice::actors
