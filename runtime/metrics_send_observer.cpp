#include "runtime/metrics_send_observer.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <string>

namespace sluice::runtime {
namespace {

// Telemetry must never turn a send into a failure: a bad setting is logged and skipped.
template <class Sink, class Resolve>
Sink* open_lazily(std::optional<Sink>& sink, bool& unavailable, Resolve resolve,
                  const char* what) noexcept {
  if (sink) return &*sink;
  if (unavailable) return nullptr;
  try {
    auto file = resolve();
    if (file) {
      sink.emplace(*file);
      return &*sink;
    }
    spdlog::warn("{}; {} not written", file.err().message, what);
  } catch (const std::exception& ex) {
    spdlog::warn("{} not written: {}", what, ex.what());
  }
  unavailable = true;
  return nullptr;
}

}  // namespace

metric_sink* metrics_send_observer::metrics() noexcept {
  return open_lazily(
      metrics_, metrics_unavailable_, [this] { return config_.metrics_file(); },
      "backpressure metrics are");
}

alert_sink* metrics_send_observer::alerts() noexcept {
  return open_lazily(
      alerts_, alerts_unavailable_, [this] { return config_.alert_log_file(); },
      "the inbox_overflow alert is");
}

void metrics_send_observer::on_backpressure_wait(const backpressure::send_event& e,
                                                 std::uint32_t retry,
                                                 std::chrono::nanoseconds) noexcept {
  if (auto* m = metrics()) {
    (void)m->emit("backpressure.wait", retry + 1, "count", {{"from", e.from}, {"to", e.to}});
  }
}

void metrics_send_observer::on_send_success(const backpressure::send_event& e,
                                            const backpressure::send_outcome& out) noexcept {
  if (out.waits == 0) return;  // the seed counts successes after backpressure only
  if (auto* m = metrics()) {
    (void)m->emit("backpressure.send.success", out.waits, "count",
                  {{"from", e.from}, {"to", e.to}});
  }
}

void metrics_send_observer::on_send_failure(const backpressure::send_event& e,
                                            const backpressure::send_outcome& out) noexcept {
  if (auto* m = metrics()) {
    (void)m->emit("backpressure.send.failure", out.waits, "count",
                  {{"from", e.from}, {"to", e.to}});
  }
  auto* a = alerts();
  if (a == nullptr) return;
  try {
    const auto waited_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(out.waited).count();
    const nlohmann::json metadata = {{"from", std::string(e.from)},
                                     {"to", std::string(e.to)},
                                     {"retries", out.waits},
                                     {"max_size", e.max_size},
                                     {"waited_ms", waited_ms}};
    (void)a->emit("inbox_overflow", severity::critical, alert_state::firing,
                  "inbox " + std::string(e.to) + " still full: send from " + std::string(e.from) +
                      " failed after " + std::to_string(out.waits) + " retries",
                  metadata);
  } catch (const std::exception& ex) {
    spdlog::warn("inbox_overflow alert not written: {}", ex.what());
  }
}

}  // namespace sluice::runtime
