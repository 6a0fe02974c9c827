#include "actors/loadtest/sink.hpp"

#include <thread>

#include "actors/loadtest/message.hpp"

namespace sluice::actors {

namespace {
std::uint64_t since(std::int64_t now, std::int64_t then) noexcept {
  return now > then ? static_cast<std::uint64_t>(now - then) : 0;
}
}  // namespace

loadtest_sink::loadtest_sink(inbox::inbox& in, inbox::consumer consumer,
                             std::chrono::nanoseconds per_message_delay,
                             const std::atomic<std::int64_t>& start_ns, clock_fn clock)
    : in_(&in),
      consumer_(std::move(consumer)),
      delay_(per_message_delay),
      start_ns_(&start_ns),
      clock_(clock ? std::move(clock) : clock_fn{monotonic_ns}) {}

std::size_t loadtest_sink::pump(std::size_t max, std::chrono::nanoseconds wait) {
  batch_.resize(max);
  std::size_t n = consumer_.pop_batch(batch_.data(), max);
  if (n == 0) {
    if (in_->wait_not_empty(wait) == inbox::wake_reason::timed_out) return 0;
    n = consumer_.pop_batch(batch_.data(), max);
    if (n == 0) return 0;
  }
  const std::int64_t now = clock_();
  // acquire: pairs with the release that publishes the start before the senders go.
  const std::int64_t start = start_ns_->load(std::memory_order_acquire);
  const std::int64_t t = start == 0 ? 0 : now - start;
  for (std::size_t i = 0; i < n; ++i) {
    ++out_.received;
    const auto h = decode(batch_[i].payload);
    if (!h) {
      ++out_.foreign;
      continue;
    }
    (void)out_.checker.observe(actors::sequence_checker::stream_of(h->sender, h->lane),
                               h->sequence);
    const std::uint64_t latency = since(now, h->intended_ns);
    out_.latency_ns.record(latency);
    if (h->lane < inbox::lane_count) out_.latency_by_lane[h->lane].record(latency);
    out_.service_ns.record(since(now, h->send_ns));
    out_.over_time.record(t, latency);
  }
  out_.last_receive_ns = now;
  // The delay stands for work done per message, so it happens before the batch is committed.
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_ * static_cast<std::int64_t>(n));
  consumer_.commit();
  return n;
}

}  // namespace sluice::actors
