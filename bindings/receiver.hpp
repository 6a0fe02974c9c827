#pragma once
// An agent's side of its own inbox for a binding: the single consumer (an flock, so one
// process at a time), batches that stay pending until commit(), waits in slices.
//
// Delivery is at-least-once, as everywhere in sluice: a batch is freed by commit(), which a
// binding calls after the caller handled it; asking for the next batch without committing
// returns the same messages again, and a receiver closed (or a process that died) before
// commit leaves them for the next consumer.
//
// Not thread-safe on its own: the calls must be serialized by the binding (Python: under the
// GIL; Node: on the main thread), except the slices of pop_wait's waits, which `waiter::block`
// may run beside them (Python releases the GIL there): a slice reads only the shared memory
// and a copy of where the reads stand, so another thread may pop, commit or close meanwhile.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/bus.hpp"
#include "bindings/waiter.hpp"
#include "inbox/inbox.hpp"

namespace sluice::bindings {

// How long a waiting receiver watches the inbox before it sleeps on the doorbell.
inline constexpr std::chrono::microseconds spin_before_sleep{30};

class receiver {
 public:
  // Opens the agent's inbox (created, with the bus directory, when missing) and takes its
  // consumer lock; busy when another process holds it.
  receiver(std::shared_ptr<bus> b, std::string agent);

  struct batch_view {
    const inbox::received_message* data = nullptr;  // valid until commit() or the next pop
    std::size_t size = 0;
  };

  // Up to max pending messages (0: the bus's batch size now; at most max_batch()), without
  // waiting.
  batch_view pop(std::size_t max);
  std::size_t max_batch() const noexcept { return buffer_.size(); }
  // The same, waiting up to timeout (nullopt: without end) for the first message; empty
  // when the time ran out. Waits run through `w`.
  // spin: how long, from the call on, a wait watches the inbox before it sleeps (at least
  // spin_before_sleep): a message that comes meanwhile costs no wake-up, a busy core pays.
  batch_view pop_wait(std::size_t max, std::optional<std::chrono::nanoseconds> timeout, waiter& w,
                      std::chrono::nanoseconds spin = spin_before_sleep);
  // For a receiver that waits in an event loop (inbox/bell.hpp): the descriptor the loop
  // watches (the bell is opened on first use), and arming it: false when a message may
  // already be there (pop instead), or when the receiver is closed. Arming again re-arms and
  // takes earlier datagrams out of the descriptor.
  int bell_fd();
  bool arm_bell();
  void disarm_bell() noexcept;
  // A look at the inbox without a syscall and without arming anything, for a waiter that
  // polls (the Node receiver's spin): true when messages are there, published or still being
  // written. False once closed.
  bool anything_queued() const noexcept { return consumer_ && box_->size() > 0; }
  // Frees the last batch popped. Counts batches, so a binding can tell a batch object whose
  // messages were already committed from the current one.
  void commit();
  std::uint64_t commits() const noexcept { return commits_; }
  // Releases the consumer lock; an uncommitted batch stays pending. Idempotent.
  void close() noexcept;
  bool closed() const noexcept { return !consumer_; }

  const std::string& agent() const noexcept { return agent_; }
  const std::shared_ptr<bus>& owner() const noexcept { return bus_; }

 private:
  void require_open() const;
  void require_intact() const;
  // One slice of pop_wait: a short spin, then the doorbell, for a message beyond `from`.
  void wait_past(const inbox::read_position& from, std::chrono::nanoseconds slice,
                 std::chrono::nanoseconds spin) const noexcept;

  std::shared_ptr<bus> bus_;
  std::string agent_;
  inbox::inbox* box_;  // owned by bus_
  std::optional<inbox::consumer> consumer_;
  std::optional<inbox::bell> bell_;
  std::vector<inbox::received_message> buffer_;
  std::uint64_t commits_ = 0;
};

}  // namespace sluice::bindings
