#pragma once
// The C++ way to use a named limit: a governor per bus, and a lease that gives itself back.
//
//   governance::governor gov(bus_dir);
//   auto permit = gov.acquire("llm", /*cost=*/1500, std::chrono::seconds(30), "summariser");
//   if (!permit) return permit.result().reason;   // refused, timed out, or no such limit
//   call_the_api();                                // released when `permit` goes out of scope
//
// Waits like `sluice acquire`: sleeps what the limiter says (with jitter) until the deadline.
// The lease's holder is this process: if it dies, the next acquire reclaims the lease.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "governance/acquire.hpp"
#include "governance/store.hpp"

namespace sluice::governance {

class governor;

class lease {
 public:
  lease(lease&& other) noexcept;
  lease& operator=(lease&& other) noexcept;
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  ~lease();

  explicit operator bool() const noexcept { return result_.status == acquire_status::granted; }
  const acquire_result& result() const noexcept { return result_; }
  // The wait was stopped by the caller's pause hook (nothing was taken).
  bool interrupted() const noexcept { return interrupted_; }
  // Gives the lease back now (the destructor then does nothing); in a child forked while it
  // is held, only forgets it.
  void release() noexcept;

 private:
  friend class governor;
  lease(governor* owner, acquire_result r);
  governor* owner_ = nullptr;
  acquire_result result_;
  // The process that acquired it: a child forked while it is held has a copy, and releasing
  // that copy (returning through the holder's scope, exiting normally) leaves the lease with
  // the parent.
  pid_t holder_pid_ = 0;
  bool interrupted_ = false;
};

// How acquire waits between tries, when given: it is called with one sleep of at most
// pause_slice to run (a language binding releases its interpreter lock around it) and returns
// false to stop waiting. Without one, acquire sleeps each wait whole.
using pause_fn = std::function<bool(const std::function<void()>& sleep)>;
inline constexpr std::chrono::milliseconds pause_slice{50};

class governor {
 public:
  // Opens the bus's policy.ctl; not_found when no policy was applied.
  static runtime::result<governor> open(const std::filesystem::path& bus_dir);

  // Takes `cost` units of limit `key` (a [[limit]] name), waiting at most `wait`.
  lease acquire(const std::string& key, std::uint64_t cost, std::chrono::nanoseconds wait,
                const std::string& agent = "cpp", const pause_fn& pause = {});
  // Gives back a lease string (what `sluice acquire` printed).
  bool release(const std::string& lease_text) noexcept;

 private:
  explicit governor(store s) : store_(std::move(s)) {}
  store store_;
};

}  // namespace sluice::governance
