#include "backpressure/time_source.hpp"

#include <time.h>

#include <cerrno>

namespace sluice::backpressure {
namespace {

class monotonic_source final : public time_source {
 public:
  std::int64_t now_ns() noexcept override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }

  void sleep_for(std::chrono::nanoseconds d) noexcept override {
    if (d.count() <= 0) return;
    timespec req{static_cast<time_t>(d.count() / 1'000'000'000),
                 static_cast<long>(d.count() % 1'000'000'000)};
    // A signal must not cut the wait short: resume with what is left.
    while (nanosleep(&req, &req) != 0 && errno == EINTR) {
    }
  }
};

}  // namespace

time_source& monotonic_time() noexcept {
  static monotonic_source source;
  return source;
}

}  // namespace sluice::backpressure
