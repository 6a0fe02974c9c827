#pragma once
// The receiving end of `sluice loadtest`: drains one inbox, checks every message's place in
// its (sender, lane) stream and records its end-to-end latency. The pump is plain C++ so it
// is testable without an actor system; loadtest_run.cpp wraps it in a detached CAF actor.
#include <chrono>
#include <cstdint>
#include <vector>

#include "inbox/inbox.hpp"
#include "actors/loadtest/latency_histogram.hpp"
#include "actors/loadtest/sequence_checker.hpp"

namespace sluice::actors {

struct sink_outcome {
  actors::sequence_checker checker;
  actors::latency_histogram latency_ns;
  std::uint64_t received = 0;        // every message popped, loadtest or not
  std::uint64_t foreign = 0;         // messages without a loadtest header (not ours)
  std::int64_t last_receive_ns = 0;  // CLOCK_MONOTONIC of the last message
};

class loadtest_sink {
 public:
  // consumer must have been attached to in; in must outlive this object.
  loadtest_sink(inbox::inbox& in, inbox::consumer consumer, std::chrono::nanoseconds per_message_delay);

  // Pops one batch of up to max messages (waiting up to `wait` for the first when the inbox
  // is empty), accounts for each, sleeps the consumer delay, commits. Returns how many.
  std::size_t pump(std::size_t max, std::chrono::nanoseconds wait);

  // True when nothing is pending (and no batch is uncommitted).
  bool drained() const noexcept { return in_->size() == 0; }

  const sink_outcome& outcome() const noexcept { return out_; }
  sink_outcome take_outcome() { return std::move(out_); }

 private:
  inbox::inbox* in_;
  inbox::consumer consumer_;
  std::chrono::nanoseconds delay_;
  std::vector<inbox::received_message> batch_;
  sink_outcome out_;
};

}  // namespace sluice::actors
