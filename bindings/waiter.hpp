#pragma once
// How a binding waits. Every blocking wait of the core (a sender backing off on a full
// inbox, a receiver waiting for a message) is cut into slices of at most wait_slice, and
// each slice runs through the binding's waiter: Python releases the GIL around the slice and
// checks for Ctrl-C after it; Node's worker threads check whether the receiver was closed.
// So a wait never holds an interpreter lock, and a stop request is seen within one slice.
#include <chrono>
#include <functional>

namespace sluice::bindings {

inline constexpr std::chrono::milliseconds wait_slice{50};

class waiter {
 public:
  virtual ~waiter() = default;
  // Runs one slice (a doorbell wait of at most wait_slice). Must not throw.
  virtual void block(const std::function<void()>& slice) noexcept { slice(); }
  // After each slice: false stops the wait (the core then throws bindings::interrupted).
  // Must not throw.
  virtual bool keep_waiting() noexcept { return true; }
};

// Waits without interruption (C++ callers, tests).
inline waiter& plain_waiter() noexcept {
  static waiter w;
  return w;
}

}  // namespace sluice::bindings
