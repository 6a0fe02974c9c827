#pragma once
// SIGINT and SIGTERM, handled one of two ways, and only here:
//  - a loop that polls (recv --follow, top, an agent's pump, the loadtest) installs
//    stop_on_signals() and checks stop_requested() between units of work, so a stop never
//    lands inside a batch: the handler only stores which signal came. No SA_RESTART, so a
//    doorbell or futex wait returns early instead of sleeping on.
//  - a verb that runs an actor system blocks both signals (blocked_stop_signals) before CAF
//    starts its threads (they inherit the mask) and receives them synchronously, with sigwait
//    or a signalfd on `set`, so a stop is an ordinary event instead of a handler racing the
//    actors.
#include <signal.h>

#include <atomic>

namespace sluice::runtime {

// Installs the flag-setting handler for SIGINT and SIGTERM (idempotent).
void stop_on_signals() noexcept;
// Whether SIGINT or SIGTERM arrived since stop_on_signals(), and which (0: none).
bool stop_requested() noexcept;
int stop_signal() noexcept;
// The flag itself (the signal's number, 0 while none came), for code that takes a stop flag.
const std::atomic<int>& stop_flag() noexcept;

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

}  // namespace sluice::runtime
