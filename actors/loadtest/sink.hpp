#pragma once
// The receiving end of `sluice loadtest`: drains one inbox, checks every message's place in
// its (sender, lane) stream and records two times per message: its latency, from when it was
// due (the sender's schedule with --rate, so a stalled sender cannot hide the messages it
// failed to send on time: no coordinated omission), and its service time, from when its send
// began. The pump is plain C++ so it is testable without an actor system; run.cpp wraps it in
// a detached CAF actor.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "actors/loadtest/latency_histogram.hpp"
#include "actors/loadtest/sequence_checker.hpp"
#include "actors/loadtest/timeline.hpp"
#include "inbox/inbox.hpp"

namespace sluice::actors {

struct sink_outcome {
  actors::sequence_checker checker;
  latency_histogram latency_ns;                                      // from the intended send time
  std::array<latency_histogram, inbox::lane_count> latency_by_lane;  // the same, per lane
  latency_histogram service_ns;                                      // from the start of the send
  latency_timeline over_time;        // latency by arrival interval (its counts: throughput)
  std::uint64_t received = 0;        // every message popped, loadtest or not
  std::uint64_t foreign = 0;         // messages without a loadtest header (not ours)
  std::int64_t last_receive_ns = 0;  // CLOCK_MONOTONIC of the last message
};

class loadtest_sink {
 public:
  using clock_fn = std::function<std::int64_t()>;  // CLOCK_MONOTONIC ns

  // consumer must have been attached to in; in and start_ns must outlive this object.
  // start_ns: when the senders were released (0 until then), the origin of over_time.
  loadtest_sink(inbox::inbox& in, inbox::consumer consumer,
                std::chrono::nanoseconds per_message_delay,
                const std::atomic<std::int64_t>& start_ns, clock_fn clock = {});

  // Pops one batch of up to max messages (waiting up to `wait` for the first when the inbox
  // is empty), accounts for each, sleeps the consumer delay, commits. Returns how many.
  std::size_t pump(std::size_t max, std::chrono::nanoseconds wait);

  // True when nothing is pending (and no batch is uncommitted).
  bool drained() const noexcept { return in_->size() == 0; }

  const sink_outcome& outcome() const noexcept { return out_; }
  sink_outcome take_outcome() {
    out_.over_time.finish();
    return std::move(out_);
  }

 private:
  inbox::inbox* in_;
  inbox::consumer consumer_;
  std::chrono::nanoseconds delay_;
  const std::atomic<std::int64_t>* start_ns_;
  clock_fn clock_;
  std::vector<inbox::received_message> batch_;
  sink_outcome out_;
};

}  // namespace sluice::actors
