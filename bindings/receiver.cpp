#include "bindings/receiver.hpp"

#include <algorithm>

#include "inbox/futex.hpp"

namespace sluice::bindings {

using clock_type = std::chrono::steady_clock;

receiver::receiver(std::shared_ptr<bus> b, std::string agent)
    : bus_(std::move(b)), agent_(std::move(agent)) {
  if (!inbox::is_valid_agent_name(agent_)) {
    throw error(error_kind::bad_input, "invalid agent name '" + agent_ + "' to receive as: use 1-" +
                                           std::to_string(inbox::max_agent_name) +
                                           " characters from A-Z a-z 0-9 _ -");
  }
  box_ = bus_->inbox_of(agent_, true);
  auto attached = box_->attach_consumer();
  if (!attached) raise(attached.err());
  consumer_.emplace(std::move(attached.value()));
  const auto s = box_->snapshot();
  // No batch is larger than what the inbox can hold at once.
  buffer_.resize(std::size_t{s.capacity} + s.critical_reserve);
}

void receiver::require_open() const {
  if (!consumer_) {
    throw error(error_kind::unavailable,
                "the receiver of " + agent_ + " is closed: open a new one to receive");
  }
  if (!consumer_->held()) {
    throw error(error_kind::unavailable, "the receiver of " + agent_ +
                                             " belongs to the process this one was forked "
                                             "from: open a new one here");
  }
}

void receiver::require_intact() const {
  if (!box_->broken()) return;
  throw error(error_kind::io_error,
              box_->path().string() +
                  " shrank or lost its memory while in use (truncated, or its filesystem is "
                  "full): stopped, nothing more was read or committed; run sluice doctor");
}

receiver::batch_view receiver::pop(std::size_t max) {
  require_open();
  if (max == 0) max = bus_->batch_size();
  max = std::min(max, buffer_.size());
  const std::size_t n = consumer_->pop_batch(buffer_.data(), max);
  require_intact();
  return {buffer_.data(), n};
}

receiver::batch_view receiver::pop_wait(std::size_t max,
                                        std::optional<std::chrono::nanoseconds> timeout, waiter& w,
                                        std::chrono::nanoseconds spin) {
  auto batch = pop(max);
  if (batch.size > 0) return batch;
  const auto start = clock_type::now();
  const auto deadline = timeout ? start + *timeout : clock_type::time_point::max();
  const auto spin_until = start + spin;
  for (;;) {
    const auto now = clock_type::now();
    const auto left = deadline - now;
    if (left <= left.zero()) return {};
    const auto slice = std::min<std::chrono::nanoseconds>(left, wait_slice);
    const auto spin_left = std::max<std::chrono::nanoseconds>(spin_until - now, spin_before_sleep);
    // A copy: the slice may run beside another thread's pop, commit or close (receiver.hpp).
    const inbox::read_position from = consumer_->position();
    w.block([&] { wait_past(from, slice, spin_left); });
    if (!w.keep_waiting()) throw interrupted{};
    batch = pop(max);
    if (batch.size > 0) return batch;
    consumer_->resolve_stuck();  // what the wait itself may not touch (receiver.hpp)
  }
}

void receiver::wait_past(const inbox::read_position& from, std::chrono::nanoseconds slice,
                         std::chrono::nanoseconds spin) const noexcept {
  // Before sleeping, watch the inbox for a moment: a sender that streams messages then finds
  // the consumer awake and never pays for waking it (a futex wake per message, which halved
  // a binding sender's rate), and a message that comes soon is seen without a wake-up. The
  // doorbell wait then decides (it also knows published from merely claimed slots).
  const auto spin_until = clock_type::now() + std::min(slice, spin);
  while (box_->size() == 0 && clock_type::now() < spin_until) inbox::detail::cpu_relax();
  (void)box_->wait_past(from, slice);
}

int receiver::bell_fd() {
  if (!bell_) {
    auto b = inbox::bell::open();
    if (!b) raise(b.err());
    bell_.emplace(std::move(b.value()));
  }
  return bell_->fd();
}

bool receiver::arm_bell() {
  if (!consumer_) return false;
  (void)bell_fd();
  return consumer_->arm(*bell_);
}

void receiver::disarm_bell() noexcept {
  if (consumer_) consumer_->disarm();
}

void receiver::commit() {
  require_open();
  consumer_->commit();
  ++commits_;
}

void receiver::close() noexcept {
  consumer_.reset();
}

}  // namespace sluice::bindings
