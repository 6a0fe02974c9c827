#pragma once
// Awaiting a condition with a bound instead of sleeping a guessed time: polls `cond` until it
// holds or `timeout` passes, and says which. Tests use it only where there is no event to wait
// on (a /proc file, another process's state); the poll interval is short so a met condition is
// seen at once.
#include <chrono>
#include <thread>

namespace sluice::test {

template <class Cond>
bool eventually(Cond&& cond, std::chrono::milliseconds timeout = std::chrono::seconds(20),
                std::chrono::microseconds every = std::chrono::microseconds(500)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

}  // namespace sluice::test
