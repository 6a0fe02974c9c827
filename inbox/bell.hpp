#pragma once
// A consumer's bell: a file descriptor an event loop (libuv, CAF's multiplexer, epoll) can
// watch for "a message arrived", so a consumer that lives in an event loop is woken by the
// producer itself, not by a thread that sleeps on the futex and then wakes the loop (one
// thread wake-up fewer, about 10-15 us on a VM).
//
// The bell is a non-blocking abstract unix datagram socket named by a random 64-bit nonce.
// consumer::arm writes the nonce into the inbox header (doorbell.socket); the first producer
// whose publish then finds it there takes it (exchange to 0, so one datagram per arming)
// and sends one byte, besides ringing the futex as usual. Anyone who can read the inbox can
// learn the nonce; all a datagram can do is wake the consumer, who re-checks the inbox.
//
// An abstract socket lives in a network namespace: a producer in another one cannot reach
// the bell (its datagram is refused and dropped). A waiter on the bell must therefore look
// at the inbox again at least every bell_recheck, so such a message is late, never stuck.
#include <chrono>
#include <cstdint>

#include "inbox/result.hpp"

namespace sluice::inbox {

inline constexpr std::chrono::milliseconds bell_recheck{50};

class bell {
 public:
  static result<bell> open() noexcept;

  bell(bell&&) noexcept;
  bell& operator=(bell&&) noexcept;
  bell(const bell&) = delete;
  bell& operator=(const bell&) = delete;
  ~bell();

  int fd() const noexcept { return fd_; }  // readable (EPOLLIN) once rung
  void drain() const noexcept;             // reads every pending datagram
  // Reads one pending datagram, one recv: enough for a wake-up, since a ring sends one per
  // arming; consumer::arm drains whatever an earlier arming left. false when none was pending.
  bool take_one() const noexcept;
  std::uint64_t name() const noexcept { return name_; }

 private:
  bell(int fd, std::uint64_t name) noexcept : fd_(fd), name_(name) {}
  int fd_ = -1;
  std::uint64_t name_ = 0;
};

namespace detail {
// A producer's side: one datagram to the bell called `name`, never blocking, never raising
// SIGPIPE; failures are ignored (the waiter re-checks on its own).
void ring_bell(std::uint64_t name) noexcept;
}  // namespace detail

}  // namespace sluice::inbox
