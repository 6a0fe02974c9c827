#pragma once
// A permit of a named limit of the bus policy ([[limit]]), for the bindings: what
// `sluice acquire` does, as an object that gives its lease back (Python's context manager,
// Node's permit.release()). The lease's holder is this process: if it dies, the next acquire
// reclaims it. Waits run in slices through the binding's waiter, so Ctrl-C stops them.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "bindings/waiter.hpp"
#include "governance/lease.hpp"

namespace sluice::bindings {

struct acquire_options {
  std::uint64_t cost = 1;
  std::string agent = "binding";  // cost is recorded against it (`sluice cost`)
  // How long to wait for room; unset: 5 s, as `sluice acquire`. Zero: do not wait.
  std::optional<std::chrono::nanoseconds> timeout;
};

class permit {
 public:
  // Throws bindings::error: not_found (no policy, or no such limit), unavailable (a deny rule,
  // a hard quota, a cost the limit can never grant: exit 69), backpressure (no room before the
  // wait ran out: exit 75); bindings::interrupted when the waiter stopped the wait.
  static std::shared_ptr<permit> acquire(const std::filesystem::path& bus_dir,
                                         const std::string& key, const acquire_options& opts,
                                         waiter& w);
  ~permit();

  const std::string& key() const noexcept { return key_; }
  // The lease to release ("" for a limit without concurrency: nothing to give back).
  const std::string& lease() const noexcept;
  std::uint64_t limit() const noexcept;
  std::uint64_t remaining() const noexcept;
  bool soft_quota_exceeded() const noexcept;
  // Gives the lease back now; later calls (and the destructor) do nothing. Thread-safe.
  void release() noexcept;
  bool released() const noexcept;

 private:
  permit(std::unique_ptr<governance::governor> gov, std::string key);
  std::unique_ptr<governance::governor> gov_;  // the lease refers to it: destroyed after it
  std::optional<governance::lease> lease_;
  std::string key_;
  governance::acquire_result granted_;
  mutable std::mutex mu_;
  bool released_ = false;
};

}  // namespace sluice::bindings
