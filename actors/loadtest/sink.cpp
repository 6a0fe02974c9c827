#include "actors/loadtest/sink.hpp"

#include <thread>

#include "actors/loadtest/message.hpp"

namespace sluice::actors {

loadtest_sink::loadtest_sink(inbox::inbox& in, inbox::consumer consumer, std::chrono::nanoseconds per_message_delay)
    : in_(&in), consumer_(std::move(consumer)), delay_(per_message_delay) {}

std::size_t loadtest_sink::pump(std::size_t max, std::chrono::nanoseconds wait) {
  batch_.resize(max);
  std::size_t n = consumer_.pop_batch(batch_.data(), max);
  if (n == 0) {
    if (in_->wait_not_empty(wait) == inbox::wake_reason::timed_out) return 0;
    n = consumer_.pop_batch(batch_.data(), max);
    if (n == 0) return 0;
  }
  const std::int64_t now = monotonic_ns();
  for (std::size_t i = 0; i < n; ++i) {
    ++out_.received;
    const auto h = decode(batch_[i].payload);
    if (!h) {
      ++out_.foreign;
      continue;
    }
    (void)out_.checker.observe(actors::sequence_checker::stream_of(h->sender, h->lane), h->sequence);
    out_.latency_ns.record(now > h->send_ns ? static_cast<std::uint64_t>(now - h->send_ns) : 0);
  }
  out_.last_receive_ns = now;
  // The delay stands for work done per message, so it happens before the batch is committed.
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_ * static_cast<std::int64_t>(n));
  consumer_.commit();
  return n;
}

}  // namespace sluice::actors
