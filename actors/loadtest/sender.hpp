#pragma once
// A synthetic sender for `sluice loadtest`: numbers its messages per (sink, lane), stamps
// them, paces them and pushes them with backpressure. Plain C++ (no CAF) so it runs the same
// in a forked sender process (`sluice loadtest-sender`) and on a thread (`--threads`).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "inbox/inbox.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

struct priority_share {
  inbox::priority prio = inbox::priority::normal;
  std::uint32_t weight = 1;
};

struct sender_config {
  std::uint32_t id = 0;
  std::string bus_dir;
  std::vector<std::string> sinks;        // message k goes to sinks[k % sinks.size()]
  std::uint64_t messages = 0;            // this sender's share; 0: until the duration ends
  std::chrono::nanoseconds duration{0};  // 0: until `messages` were sent
  double rate = 0;                       // messages per second; 0: as fast as possible
  std::uint32_t payload_min = 256;       // bytes, >= loadtest_header_size
  std::uint32_t payload_max = 256;
  std::vector<priority_share> mix;  // empty: every message normal
  std::uint64_t seed = 1;
};

struct stream_count {
  std::uint32_t sink = 0;  // index into sender_config::sinks
  std::uint8_t lane = 0;
  std::uint64_t sent = 0;  // sequences 0..sent-1 are in that sink's inbox
};

struct sender_report {
  std::uint32_t id = 0;
  std::vector<stream_count> streams;
  std::uint64_t sent = 0;
  std::uint64_t backpressure_waits = 0;
  std::uint64_t send_failures = 0;  // sends that gave up (timed out, circuit open); retried
  // Time inside the send call per message (backpressure waits and retries included).
  std::uint64_t send_call_p50_ns = 0;
  std::uint64_t send_call_p99_ns = 0;
  std::uint64_t send_call_max_ns = 0;
  // With a rate: how far the start of a send fell behind its schedule at worst (0 without).
  std::uint64_t max_behind_schedule_ns = 0;
  double active_s = 0;  // from the start line to the end of its last send
};

// Sends until the quota or the duration is reached, or until `stop` is set. A send that
// fails is counted and retried with the same sequence number, so a gap at the sink always
// means a lost message, never a give-up. Fails (with a reason) when a sink cannot be opened
// or refuses a message outright (too large, closed).
// When message k of a sender started at start_ns is due at `rate` messages per second: the
// schedule is fixed at the start, so a sender that falls behind does not move it.
std::int64_t scheduled_send_ns(std::int64_t start_ns, std::uint64_t k, double rate) noexcept;

runtime::result<sender_report> run_sender(const sender_config& cfg, const std::atomic<int>& stop);

void to_json(nlohmann::json& j, const sender_config& c);
void from_json(const nlohmann::json& j, sender_config& c);
void to_json(nlohmann::json& j, const sender_report& r);
void from_json(const nlohmann::json& j, sender_report& r);

}  // namespace sluice::actors
