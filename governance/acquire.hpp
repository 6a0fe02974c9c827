#pragma once
// Acquiring a named limit of the policy in force ([[limit]], for resources outside the bus:
// an LLM API, an HTTP service). One try takes, in order: every acquire rule whose key glob
// matches (deny refuses; a limiter, taken with cost 1, must have room), the limit's request
// rate (1), its cost rate (cost), its quota (cost; hard refuses, soft only alerts) and a
// lease slot (concurrency). The first refusal decides and what earlier steps took is given
// back. Each step is one CAS on a shared word, so a process killed anywhere leaves at worst
// units taken for nothing, never a wedged limit; a lease records its holder (holder.hpp) and
// returns to the pool when that process is gone.
#include <cstdint>
#include <string>

#include "governance/compiled.hpp"
#include "governance/store_layout.hpp"

namespace sluice::governance {

struct acquire_request {
  std::string key;  // the limit's name
  std::uint64_t cost = 1;
  std::string agent;         // who to attribute the cost to
  std::uint64_t holder = 0;  // holder_word of the lease holder
};

enum class acquire_status : std::uint8_t {
  granted,
  wait,     // no room now: retry_after_ns says when to try again
  refused,  // a deny rule, a hard quota, or a cost the limit can never grant
  unknown,  // no limit of that name in the policy in force
};

struct acquire_result {
  acquire_status status = acquire_status::unknown;
  std::uint64_t limit = 0;      // the tightest limit met (burst, window count or concurrency)
  std::uint64_t remaining = 0;  // what that limiter has left after this grant
  std::int64_t retry_after_ns = 0;
  std::int64_t delay_ns = 0;  // leaky bucket: start only after this long
  std::string lease;          // granted with concurrency: "LIMIT.SLOT.HOLDER" for release
  std::string reason;         // refused / wait: which step and why
  bool soft_quota_exceeded = false;
  bool lease_wait = false;       // wait: every lease is held; wait_for_lease wakes on a release
  std::uint32_t lease_bell = 0;  // the limit's bell as this try saw it
};

acquire_result try_acquire(layout::file& state, const compiled_policy& policy,
                           const acquire_request& request, std::int64_t now_ns,
                           std::int64_t real_ns) noexcept;

// Returns a lease. False when the lease is not held (released already, or reclaimed).
bool release_lease(layout::file& state, const compiled_policy& policy,
                   std::string_view lease) noexcept;

// Sleeps until a lease of `key` is released or reclaimed after the try that returned `seen`
// (a shared futex, rung by release_lease), at most `timeout`. Callers then try again.
void wait_for_lease(layout::file& state, const compiled_policy& policy, std::string_view key,
                    std::uint32_t seen, std::int64_t timeout_ns) noexcept;

// Frees every lease of a limit whose holder is gone; returns how many.
std::uint32_t reclaim_dead(layout::file& state, const compiled_limit& limit) noexcept;

// The calendar period (UTC) real_ns falls in: hours, days or months since 1970.
std::uint64_t period_index(quota_period p, std::int64_t real_ns) noexcept;
// Usage a quota word (layout::limit_state::quota_word, or an agent's cost word) records for
// the current period (0 once the period rolled over).
std::uint64_t used_in_period(std::uint64_t quota_word, quota_period p,
                             std::int64_t real_ns) noexcept;
// Usage of a quota in the current period.
std::uint64_t quota_used(const layout::limit_state& st, quota_period p,
                         std::int64_t real_ns) noexcept;
// Start and end (CLOCK_REALTIME ns) of the period real_ns falls in.
std::pair<std::int64_t, std::int64_t> period_bounds(quota_period p, std::int64_t real_ns) noexcept;

// Adds a cost to the ledger of (agent, limit), with a command's duration for `sluice run`.
void record_cost(layout::file& state, std::string_view agent, std::string_view limit,
                 std::uint64_t cost, std::uint64_t duration_ns, std::int64_t real_ns,
                 std::uint64_t calls = 1) noexcept;

}  // namespace sluice::governance
