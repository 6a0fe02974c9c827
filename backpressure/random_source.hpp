#pragma once
// Randomness for jitter, injected so that tests can pin every draw.
#include <cstdint>

namespace sluice::backpressure {

class random_source {
 public:
  virtual ~random_source() = default;
  // A draw in [0, max_inclusive].
  [[nodiscard]] virtual std::uint64_t uniform(std::uint64_t max_inclusive) noexcept = 0;
};

// Per-thread splitmix64, seeded from pid, thread and time. It reseeds after fork(), so
// sender processes forked from one parent do not all draw the same jitter (which would
// defeat the point of jitter: they would retry in lock-step).
random_source& default_random() noexcept;

}  // namespace sluice::backpressure
