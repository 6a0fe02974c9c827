#pragma once
// The seed's backpressure telemetry for any sender (CLI, agent actors, loadtest):
//   backpressure.wait          one line per wait, value = retry number (1-based)
//   backpressure.send.success  after a send that had to wait, value = waits
//   backpressure.send.failure  when backpressure is exhausted, value = waits
//   inbox_overflow (critical, firing) alert with from, to, retries, max_size, waited_ms
// Refused sends (circuit open, rate limited, --no-wait) write nothing: the breaker and bucket
// counters already count them, and a line each would flood the log while a breaker is open.
// The metric and alert files are resolved from config on the first event, so a send that
// never waits touches no file and reads no sluice.toml.
#include <optional>

#include "backpressure/send_observer.hpp"
#include "runtime/alert_sink.hpp"
#include "runtime/config.hpp"
#include "runtime/metric_sink.hpp"

namespace sluice::runtime {

class metrics_send_observer final : public backpressure::send_observer {
 public:
  explicit metrics_send_observer(config& cfg) noexcept : config_(cfg) {}

  void on_backpressure_wait(const backpressure::send_event& e, std::uint32_t retry,
                            std::chrono::nanoseconds delay) noexcept override;
  void on_send_success(const backpressure::send_event& e,
                       const backpressure::send_outcome& out) noexcept override;
  void on_send_failure(const backpressure::send_event& e,
                       const backpressure::send_outcome& out) noexcept override;

 private:
  metric_sink* metrics() noexcept;
  alert_sink* alerts() noexcept;

  config& config_;
  std::optional<metric_sink> metrics_;
  std::optional<alert_sink> alerts_;
  bool metrics_unavailable_ = false;  // bad METRICS_FILE: reported once, then skipped
  bool alerts_unavailable_ = false;
};

}  // namespace sluice::runtime
