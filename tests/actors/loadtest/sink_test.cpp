// Coordinated omission: a sender with a rate stamps each message with when it was due on its
// schedule, not when it got round to sending it, and the sink measures latency from that time
// and service time from the start of the send, per lane and over time.
#include "actors/loadtest/sink.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "actors/loadtest/message.hpp"
#include "actors/loadtest/sender.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::actors;
namespace inbox = sluice::inbox;

namespace {

inbox::inbox make(const sluice::test::temp_bus& bus, const std::string& name) {
  auto r = inbox::inbox::open_or_create(bus.dir(), name);
  REQUIRE(r);
  return std::move(r).value();
}

void push(inbox::inbox& in, const loadtest_header& h, inbox::priority prio) {
  std::string payload(loadtest_header_size, '\0');
  encode(h, payload.data());
  REQUIRE(in.try_push({"test", "loadtest", payload, prio}) == inbox::push_result::ok);
}

}  // namespace

TEST_CASE("the header carries sender, lane, sequence and both times through encode and decode") {
  loadtest_header h;
  h.sender = 7;
  h.lane = 3;
  h.sequence = loadtest_max_sequence;
  h.intended_ns = 123456789;
  h.send_ns = 987654321;
  char bytes[loadtest_header_size];
  encode(h, bytes);
  const auto back = decode({bytes, sizeof bytes});
  REQUIRE(back);
  CHECK(back->sender == 7);
  CHECK(back->lane == 3);
  CHECK(back->sequence == loadtest_max_sequence);
  CHECK(back->intended_ns == 123456789);
  CHECK(back->send_ns == 987654321);
  CHECK_FALSE(decode({bytes, sizeof bytes - 1}));
}

TEST_CASE("the sink measures latency from when a message was due and service time from its send") {
  sluice::test::temp_bus bus;
  auto in = make(bus, "sink");
  std::atomic<std::int64_t> start{1'000'000};
  std::int64_t now = 0;
  auto consumer = in.attach_consumer();
  REQUIRE(consumer);
  loadtest_sink sink(in, std::move(consumer).value(), std::chrono::nanoseconds{0}, start,
                     [&] { return now; });
  // Due at 2 ms, sent at 5 ms (the sender was 3 ms behind), received at 10 ms.
  loadtest_header late;
  late.sender = 1;
  late.lane = static_cast<std::uint8_t>(inbox::priority::high);
  late.intended_ns = 2'000'000;
  late.send_ns = 5'000'000;
  push(in, late, inbox::priority::high);
  // Sent on time at 9 ms, received at 10 ms.
  loadtest_header on_time;
  on_time.sender = 2;
  on_time.lane = static_cast<std::uint8_t>(inbox::priority::normal);
  on_time.intended_ns = 9'000'000;
  on_time.send_ns = 9'000'000;
  push(in, on_time, inbox::priority::normal);
  now = 10'000'000;
  REQUIRE(sink.pump(16, std::chrono::milliseconds(0)) == 2);
  auto out = sink.take_outcome();
  CHECK(out.latency_ns.count() == 2);
  CHECK(out.latency_ns.max() == 8'000'000);
  CHECK(out.latency_ns.min() == 1'000'000);
  CHECK(out.service_ns.max() == 5'000'000);
  CHECK(out.service_ns.min() == 1'000'000);
  CHECK(out.latency_by_lane[static_cast<std::size_t>(inbox::priority::high)].max() == 8'000'000);
  CHECK(out.latency_by_lane[static_cast<std::size_t>(inbox::priority::normal)].max() == 1'000'000);
  CHECK(out.latency_by_lane[static_cast<std::size_t>(inbox::priority::low)].count() == 0);
  // Both arrived 9 ms after the start: the interval [0 ms, 10 ms) of the timeline.
  REQUIRE(out.over_time.finish().cells().size() == 1);
  CHECK(out.over_time.finish().cells()[0].count() == 2);
  CHECK(out.checker.summary().received == 2);
}

TEST_CASE("the schedule is fixed at the start: message k is due k / rate after it") {
  CHECK(scheduled_send_ns(1000, 0, 100) == 1000);
  CHECK(scheduled_send_ns(1000, 1, 100) == 1000 + 10'000'000);
  CHECK(scheduled_send_ns(0, 3, 3) == 1'000'000'000);
  CHECK(scheduled_send_ns(0, 1'000'000'000'000ULL, 1e6) == 1'000'000'000'000'000LL);
}

TEST_CASE("a sender with a rate stamps each message with its scheduled time and sends no earlier") {
  sluice::test::temp_bus bus;
  auto in = make(bus, "paced");
  sender_config cfg;
  cfg.bus_dir = bus.dir().string();
  cfg.sinks = {"paced"};
  cfg.messages = 40;
  cfg.rate = 4000;  // 250 us apart
  cfg.payload_min = cfg.payload_max = loadtest_header_size;
  const std::atomic<int> stop{0};
  auto report = run_sender(cfg, stop);
  REQUIRE(report);
  CHECK(report->sent == 40);
  auto c = in.attach_consumer();
  REQUIRE(c);
  const auto batch = c->pop_batch(100);
  REQUIRE(batch.size() == 40);
  const auto first = decode(batch[0].payload);
  REQUIRE(first);
  for (std::size_t k = 0; k < batch.size(); ++k) {
    const auto h = decode(batch[k].payload);
    REQUIRE(h);
    INFO("message " << k);
    CHECK(h->sequence == k);
    // The schedule's origin is the sender's start, which message 0 is due at.
    CHECK(h->intended_ns == scheduled_send_ns(first->intended_ns, k, cfg.rate));
    CHECK(h->send_ns >= h->intended_ns);
  }
}

TEST_CASE("without a rate a message is due when its send begins") {
  sluice::test::temp_bus bus;
  auto in = make(bus, "fast");
  sender_config cfg;
  cfg.bus_dir = bus.dir().string();
  cfg.sinks = {"fast"};
  cfg.messages = 10;
  const std::atomic<int> stop{0};
  REQUIRE(run_sender(cfg, stop));
  auto c = in.attach_consumer();
  REQUIRE(c);
  for (const auto& m : c->pop_batch(100)) {
    const auto h = decode(m.payload);
    REQUIRE(h);
    CHECK(h->intended_ns == h->send_ns);
  }
}
