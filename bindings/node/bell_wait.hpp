#pragma once
// A receiver's waits, on the main thread: libuv watches the inbox's bell (inbox/bell.hpp), so
// the producer's datagram wakes the event loop itself. A pool thread asleep on the futex
// needed two wake-ups per message (the thread, then the loop through uv_async).
//
// Any number of waits may be pending; all settle true together once a message may be there.
// One timer ends each at its deadline (false) and, while any is pending, looks at the inbox
// every bell_recheck, for a producer that cannot reach the bell (another network namespace).
// Nothing here blocks the loop, and nothing keeps it alive while no wait is pending.
//
// A wait may spin first (its receive's spinUs): until its spin deadline the loop runs an idle
// handle, which makes libuv poll for I/O without sleeping, and looks at the inbox once per
// iteration instead of arming the bell. Waking the loop through any descriptor costs Node
// about 20 us; a spinning loop sees a message within one iteration, and a sender finds no
// armed bell, so it sends no datagram. Timers, I/O and other callbacks keep running: the loop
// is busy, never blocked. Once the latest spin deadline of the pending waits passes, they
// wait on the bell as a wait without spin does. A wait without spin that comes while others
// spin joins their spin.
#include <napi.h>
#include <uv.h>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "bindings/receiver.hpp"

namespace sluice::bindings {

class bell_wait {
 public:
  // Opens the receiver's bell; errors as the receiver's (bindings::error).
  static bell_wait* open(Napi::Env env, std::shared_ptr<receiver> r);
  bell_wait(const bell_wait&) = delete;
  bell_wait& operator=(const bell_wait&) = delete;

  // Promise<boolean>: true once a message may be there; false at the deadline (nullopt: none)
  // or when the receiver is closed. Spins for `spin` first (zero: not at all).
  Napi::Promise wait(Napi::Env env, std::optional<std::chrono::nanoseconds> timeout,
                     std::chrono::nanoseconds spin);
  // Whether pending waits are spinning now (rather than waiting on the bell, or none pending).
  bool spinning() const noexcept { return spinning_; }
  // Settles every pending wait false (the receiver was closed).
  void settle_all_false();
  // The owner lets go: pending waits settle false, the handles close, and the object frees
  // itself once libuv is done with them. Call once; nothing after.
  void release() noexcept;

 private:
  using clock_type = std::chrono::steady_clock;
  struct pending {
    Napi::Promise::Deferred deferred;
    clock_type::time_point deadline;
    clock_type::time_point spin_until;  // spins while the clock is before it
  };

  bell_wait(Napi::Env env, std::shared_ptr<receiver> r, int fd);
  ~bell_wait();

  void on_readable();
  void on_timer();
  void on_idle();
  void start_spin();
  // The spin window closed: arm the bell, as a wait without spin does at once.
  void end_spin();
  void watch_bell();
  // Settles the pending waits that `pred` picks with `ready`; from_loop: called by libuv, not
  // from JavaScript, so the Promises' continuations must be run here.
  template <class Pred>
  void settle_where(bool ready, Pred pred, bool from_loop);
  void schedule(clock_type::time_point now);
  void stop() noexcept;  // no wait pending: stop watching and disarm
  void close_handles() noexcept;
  static void on_env_cleanup(void* self);
  static void on_closed(uv_handle_t* h);

  napi_env env_;
  std::optional<Napi::AsyncContext> context_;  // reset while the environment still exists
  std::shared_ptr<receiver> receiver_;
  uv_poll_t poll_{};
  uv_timer_t timer_{};
  uv_idle_t idle_{};  // active only while spinning
  std::vector<pending> pending_;
  clock_type::time_point spin_until_{};  // the latest spin deadline of the pending waits
  bool spinning_ = false;
  bool bell_watched_ = false;  // the poll handle watches the bell
  int open_handles_ = 0;
  bool closing_ = false;   // the handles are closing or closed
  bool released_ = false;  // the owner let go
  bool env_gone_ = false;  // the environment's cleanup ran: no more N-API calls
};

}  // namespace sluice::bindings
