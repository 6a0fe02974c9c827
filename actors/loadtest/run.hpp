#pragma once
// One `sluice loadtest` run: create the sink inboxes, start a detached CAF actor per sink,
// start the senders (processes or threads) together, sample progress, then collect every
// sender's final count and every sink's checker into one loadtest_run.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "actors/loadtest/result.hpp"
#include "actors/loadtest/sender.hpp"
#include "inbox/inbox.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

struct loadtest_config {
  std::filesystem::path bus_dir;
  std::uint32_t senders = 4;
  std::uint32_t sinks = 1;
  // Empty: senders are threads of this process. Otherwise the executable that runs
  // `<sender_exe> loadtest-sender <config-json>` (sluice itself).
  std::string sender_exe;
  std::uint64_t messages = 0;  // total over all senders; 0: use duration
  std::chrono::nanoseconds duration{0};
  double rate = 0;  // per sender
  std::uint32_t payload_min = 256;
  std::uint32_t payload_max = 256;
  std::vector<priority_share> mix;
  std::chrono::nanoseconds consumer_delay{0};  // per message, in every sink
  inbox::create_options inbox_options{};
  // How often the inboxes' fill and counters are read: often enough that a run of a few
  // hundred milliseconds still shows how full its inboxes got.
  std::chrono::milliseconds sample_interval{5};
  // How often the live progress line is updated (and the senders' exits are checked).
  std::chrono::milliseconds progress_interval{100};
  std::string sink_prefix = "loadtest-sink-";
  bool keep = false;  // keep the sink inboxes afterwards
};

// What the live progress line shows.
struct loadtest_progress {
  double elapsed_s = 0;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  double msgs_per_s = 0;     // received, over the last interval
  std::uint64_t p99_ns = 0;  // the worst sink's p99 so far (sinks are not merged until the end)
  std::uint64_t backpressure_waits = 0;
  std::uint64_t breaker_trips = 0;
  std::uint32_t senders_running = 0;
};

using progress_fn = std::function<void(const loadtest_progress&)>;

// Blocks until the run is over (one repetition). `interrupted` (set from a signal handler) stops
// the senders early; the sinks still drain what was sent, so the result stays exact. Fails when a
// sink cannot be created or attached, or a sender cannot start or dies without a report.
runtime::result<loadtest_run> run_loadtest(const loadtest_config& cfg,
                                           const progress_fn& on_progress,
                                           const std::atomic<int>& interrupted);

// Splits total into n shares that differ by at most one.
std::uint64_t share_of(std::uint64_t total, std::uint32_t n, std::uint32_t i) noexcept;

}  // namespace sluice::actors
