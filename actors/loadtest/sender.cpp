#include "actors/loadtest/sender.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "actors/loadtest/latency_histogram.hpp"
#include "actors/loadtest/message.hpp"
#include "backpressure/send.hpp"

namespace sluice::actors {

namespace {

constexpr std::size_t lanes = 4;

// Picks a lane by weight; the prefix sums make each draw one binary search.
class lane_picker {
 public:
  explicit lane_picker(const std::vector<priority_share>& mix) {
    std::uint64_t sum = 0;
    for (const auto& share : mix) {
      sum += share.weight;
      cumulative_.push_back({sum, share.prio});
    }
  }
  inbox::priority pick(std::mt19937_64& rng) const {
    if (cumulative_.empty()) return inbox::priority::normal;
    const std::uint64_t r = rng() % cumulative_.back().first;
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), r,
                                     [](std::uint64_t v, const auto& c) { return v < c.first; });
    return it->second;
  }

 private:
  std::vector<std::pair<std::uint64_t, inbox::priority>> cumulative_;
};

void sleep_until_monotonic(std::int64_t when_ns) noexcept {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(when_ns / 1000000000);
  ts.tv_nsec = static_cast<long>(when_ns % 1000000000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

}  // namespace

std::int64_t scheduled_send_ns(std::int64_t start_ns, std::uint64_t k, double rate) noexcept {
  return start_ns + static_cast<std::int64_t>(std::llround(static_cast<double>(k) * 1e9 / rate));
}

runtime::result<sender_report> run_sender(const sender_config& cfg, const std::atomic<int>& stop) {
  std::vector<inbox::inbox> sinks;
  for (const auto& name : cfg.sinks) {
    auto opened = inbox::inbox::open(cfg.bus_dir, name);
    if (!opened) return opened.err();
    sinks.push_back(std::move(opened).value());
  }
  if (sinks.empty())
    return runtime::error{runtime::errc::invalid_argument, "loadtest sender: no sinks given"};

  const std::string from = "loadtest-sender-" + std::to_string(cfg.id);
  std::mt19937_64 rng{cfg.seed};
  const lane_picker picker{cfg.mix};
  std::uniform_int_distribution<std::uint32_t> size_dist{
      std::max<std::uint32_t>(cfg.payload_min, loadtest_header_size),
      std::max(cfg.payload_min, cfg.payload_max)};
  std::string payload(size_dist.max(), 'x');
  std::vector<std::uint64_t> next_seq(sinks.size() * lanes, 0);
  const backpressure::send_policy policy{};

  sender_report report;
  report.id = cfg.id;
  latency_histogram send_call_ns;
  const std::int64_t start_ns = monotonic_ns();
  const std::int64_t deadline_ns = start_ns + cfg.duration.count();
  std::int64_t last_done_ns = start_ns;
  auto finish = [&] {
    report.send_call_p50_ns = send_call_ns.percentile(50);
    report.send_call_p99_ns = send_call_ns.percentile(99);
    report.send_call_max_ns = send_call_ns.max();
    report.active_s = static_cast<double>(last_done_ns - start_ns) / 1e9;
  };
  for (std::uint64_t k = 0;; ++k) {
    if (cfg.messages != 0 && k >= cfg.messages) break;
    if (cfg.duration.count() != 0 && monotonic_ns() >= deadline_ns) break;
    // Relaxed: a flag polled between messages; nothing is published through it.
    if (stop.load(std::memory_order_relaxed)) break;
    std::int64_t intended_ns = 0;
    if (cfg.rate > 0) {
      intended_ns = scheduled_send_ns(start_ns, k, cfg.rate);
      sleep_until_monotonic(intended_ns);
    }
    const std::size_t sink = k % sinks.size();
    const auto prio = picker.pick(rng);
    const auto lane = static_cast<std::uint8_t>(prio);
    auto& seq = next_seq[sink * lanes + lane];
    const std::uint32_t size = size_dist(rng);
    loadtest_header h;
    h.sender = cfg.id;
    h.lane = lane;
    h.sequence = seq;
    h.send_ns = monotonic_ns();
    // Without a rate nothing was due earlier than now: latency and service time coincide.
    h.intended_ns = cfg.rate > 0 ? intended_ns : h.send_ns;
    if (h.send_ns > h.intended_ns) {
      report.max_behind_schedule_ns = std::max(
          report.max_behind_schedule_ns, static_cast<std::uint64_t>(h.send_ns - h.intended_ns));
    }
    encode(h, payload.data());
    for (;;) {
      const auto out = backpressure::send_with_backpressure(
          sinks[sink], {from, "loadtest", std::string_view{payload.data(), size}, prio}, policy);
      report.backpressure_waits += out.waits;
      if (out.status == backpressure::send_status::sent) break;
      if (out.status == backpressure::send_status::rejected) {
        return runtime::error{runtime::errc::invalid_argument,
                              "loadtest sender: " + cfg.sinks[sink] + " refused a " +
                                  std::to_string(size) + " byte message (" +
                                  (out.last_push ? inbox::to_string(*out.last_push) : "rejected") +
                                  "); use a smaller --payload"};
      }
      ++report.send_failures;
      if (stop.load(std::memory_order_relaxed)) {
        finish();
        return report;
      }
      // Circuit open: wait out the cooldown the breaker asked for, then retry.
      if (out.retry_after.count() > 0) std::this_thread::sleep_for(out.retry_after);
    }
    last_done_ns = monotonic_ns();
    send_call_ns.record(static_cast<std::uint64_t>(last_done_ns - h.send_ns));
    ++seq;
    ++report.sent;
  }
  finish();
  for (std::size_t i = 0; i < next_seq.size(); ++i) {
    if (next_seq[i] == 0) continue;
    report.streams.push_back(
        {static_cast<std::uint32_t>(i / lanes), static_cast<std::uint8_t>(i % lanes), next_seq[i]});
  }
  return report;
}

void to_json(nlohmann::json& j, const sender_config& c) {
  nlohmann::json mix = nlohmann::json::array();
  for (const auto& s : c.mix) mix.push_back({static_cast<int>(s.prio), s.weight});
  j = {{"id", c.id},
       {"bus_dir", c.bus_dir},
       {"sinks", c.sinks},
       {"messages", c.messages},
       {"duration_ns", c.duration.count()},
       {"rate", c.rate},
       {"payload_min", c.payload_min},
       {"payload_max", c.payload_max},
       {"mix", mix},
       {"seed", c.seed}};
}

void from_json(const nlohmann::json& j, sender_config& c) {
  j.at("id").get_to(c.id);
  j.at("bus_dir").get_to(c.bus_dir);
  j.at("sinks").get_to(c.sinks);
  j.at("messages").get_to(c.messages);
  c.duration = std::chrono::nanoseconds{j.at("duration_ns").get<std::int64_t>()};
  j.at("rate").get_to(c.rate);
  j.at("payload_min").get_to(c.payload_min);
  j.at("payload_max").get_to(c.payload_max);
  c.mix.clear();
  for (const auto& s : j.at("mix")) {
    c.mix.push_back({static_cast<inbox::priority>(std::clamp(s.at(0).get<int>(), 0, 3)),
                     s.at(1).get<std::uint32_t>()});
  }
  j.at("seed").get_to(c.seed);
}

void to_json(nlohmann::json& j, const sender_report& r) {
  nlohmann::json streams = nlohmann::json::array();
  for (const auto& s : r.streams) streams.push_back({s.sink, s.lane, s.sent});
  j = {{"id", r.id},
       {"streams", streams},
       {"sent", r.sent},
       {"backpressure_waits", r.backpressure_waits},
       {"send_failures", r.send_failures},
       {"send_call_ns", {r.send_call_p50_ns, r.send_call_p99_ns, r.send_call_max_ns}},
       {"max_behind_schedule_ns", r.max_behind_schedule_ns},
       {"active_s", r.active_s}};
}

void from_json(const nlohmann::json& j, sender_report& r) {
  j.at("id").get_to(r.id);
  r.streams.clear();
  for (const auto& s : j.at("streams")) {
    r.streams.push_back(
        {s.at(0).get<std::uint32_t>(), s.at(1).get<std::uint8_t>(), s.at(2).get<std::uint64_t>()});
  }
  j.at("sent").get_to(r.sent);
  j.at("backpressure_waits").get_to(r.backpressure_waits);
  j.at("send_failures").get_to(r.send_failures);
  const auto& call = j.at("send_call_ns");
  r.send_call_p50_ns = call.at(0).get<std::uint64_t>();
  r.send_call_p99_ns = call.at(1).get<std::uint64_t>();
  r.send_call_max_ns = call.at(2).get<std::uint64_t>();
  j.at("max_behind_schedule_ns").get_to(r.max_behind_schedule_ns);
  j.at("active_s").get_to(r.active_s);
}

}  // namespace sluice::actors
