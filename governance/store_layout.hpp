#pragma once
// The bytes of policy.ctl, the governance state every process of a bus maps
// (docs/architecture.md section 12). Same rules as bus.ctl and the inbox header: magic +
// version, fixed offsets (static_assert'ed), only lock-free atomics, no pointers, valid when
// zero-filled. Nothing here is trusted by a reader: every index and length read from it is
// bounds-checked, every name re-validated.
//
// | part        | what                                                                      |
// |-------------|---------------------------------------------------------------------------|
// | header      | identity, written once before the file is linked into place              |
// | control     | `published` = generation << 1 | buffer: which compiled policy is in force |
// | buffers[2]  | two compiled policies as atomic words; `policy apply` writes the one not  |
// |             | in force, then publishes it with one release store (store.cpp)            |
// | rule_states | per rule name: its limiter word (per = rule) and its audit counters       |
// | limit_states| per limit name: rate, cost-rate and quota words, lease slots, counters   |
// | cells       | keyed limiter words: rules with per = from/to/pair, and check-rate        |
// | ledger      | cost per (agent, limit): totals and the current hour, day and month       |
//
// Rule and limit states are found by name and keep their slot across policy versions, so a
// re-applied policy keeps its counters, its quotas' usage and the leases held.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace sluice::governance::layout {

inline constexpr std::size_t cache_line = 64;
inline constexpr char magic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'P', 'O'};
inline constexpr std::uint32_t layout_version = 1;

inline constexpr std::uint32_t rule_state_count = 128;
inline constexpr std::uint32_t limit_state_count = 64;
inline constexpr std::uint32_t lease_slot_count = 64;  // the largest concurrency a limit has
inline constexpr std::uint32_t cell_count = 2048;
inline constexpr std::uint32_t ledger_count = 512;
inline constexpr std::size_t name_bytes = 64;  // names stored as 8 words, NUL-padded

// A compiled policy: a small header and fixed-size records (compiled.hpp), stored as words.
inline constexpr std::size_t buffer_words = 4608;

struct header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t file_size;
  std::uint32_t rule_states;
  std::uint32_t limit_states;
  std::uint32_t cells;
  std::uint32_t ledger_entries;
  std::uint32_t buffer_words;
  std::int32_t creator_pid;
  std::int64_t created_ns;  // CLOCK_REALTIME, for humans
};

struct alignas(cache_line) control {
  // generation << 1 | index of the buffer in force. Generation 0: no policy applied yet.
  std::atomic<std::uint64_t> published;
  std::atomic<std::int64_t> applied_ns;  // CLOCK_REALTIME of the last apply
  std::atomic<std::uint64_t> check_rate_allowed;
  std::atomic<std::uint64_t> check_rate_denied;
};

struct alignas(cache_line) policy_buffer {
  std::atomic<std::uint64_t> words[buffer_words];
};

// One rule's shared state. The first line is the hot one: a send that matches the rule takes
// from `word` and counts in `matched` (and `denied`... on refusals only).
struct alignas(cache_line) rule_state {
  std::atomic<std::uint64_t> key;            // name hash; 0: free
  std::atomic<std::uint64_t> fingerprint;    // the limiter parameters `word` belongs to
  std::atomic<std::uint64_t> word;           // the limiter of a per = "rule" rule
  std::atomic<std::uint64_t> matched;        // decisions taken on this rule
  std::atomic<std::uint64_t> denied;         // ... that refused (deny, or no room)
  std::atomic<std::uint64_t> demoted;        // ... that lowered the lane
  std::atomic<std::uint64_t> logged;         // ... that a log rule would have refused
  std::atomic<std::int64_t> last_denial_ns;  // CLOCK_REALTIME; 0: never
  std::atomic<std::uint64_t> last_denied[name_bytes / 8];  // who, NUL-padded, best effort
};

struct lease_slot {
  // 0: free. Else the holder: pid (22 bits) << 42 | its start time in clock ticks since boot
  // (42 bits, /proc/<pid>/stat field 22), so a reused pid is never taken for the holder.
  std::atomic<std::uint64_t> holder;
  std::atomic<std::int64_t> since_ns;  // CLOCK_REALTIME of the grant, for display
};

struct alignas(cache_line) limit_state {
  std::atomic<std::uint64_t> key;
  std::atomic<std::uint64_t> fingerprint;
  std::atomic<std::uint64_t> rate_word;
  std::atomic<std::uint64_t> cost_word;
  std::atomic<std::uint64_t> quota_word;         // period (20 bits) << 44 | used (44 bits)
  std::atomic<std::uint64_t> peak;               // the largest usage of one period seen
  std::atomic<std::uint32_t> bell;               // futex: rung when a lease comes back
  std::atomic<std::uint32_t> waiters;            // processes sleeping on bell
  std::atomic<std::uint64_t> quota_fingerprint;  // the quota `quota_word` counts for
  // Counters, for `sluice limits` and Prometheus.
  alignas(cache_line) std::atomic<std::uint64_t> granted;
  std::atomic<std::uint64_t> refused_rate;
  std::atomic<std::uint64_t> refused_quota;
  std::atomic<std::uint64_t> refused_concurrency;
  std::atomic<std::uint64_t> released;
  std::atomic<std::uint64_t> reclaimed;  // leases whose holder died
  std::atomic<std::uint64_t> cost_total;
  std::atomic<std::int64_t> last_denial_ns;
  lease_slot leases[lease_slot_count];
};

// A keyed limiter: rules with per = from/to/pair (one per sender, destination or pair) and
// `check-rate` (one per entity, operation, limit and window).
struct alignas(32) cell {
  std::atomic<std::uint64_t> key;  // 0: free
  std::atomic<std::uint64_t> word;
  std::atomic<std::int64_t> idle_after;  // CLOCK_MONOTONIC after which word = a fresh limiter
  std::atomic<std::uint64_t> reserved;
};

// Cost of one agent on one limit.
struct alignas(cache_line) ledger_entry {
  std::atomic<std::uint64_t> key;  // hash of agent and limit names; 0: free
  std::atomic<std::uint64_t> count;
  std::atomic<std::uint64_t> cost;
  std::atomic<std::uint64_t> duration_ns;  // of `sluice run` commands
  std::atomic<std::uint64_t> hour;         // period << 44 | cost in that hour (UTC)
  std::atomic<std::uint64_t> day;
  std::atomic<std::uint64_t> month;
  std::atomic<std::uint64_t> reserved;
  std::atomic<std::uint64_t> agent[name_bytes / 8];
  std::atomic<std::uint64_t> limit[name_bytes / 8];
};

struct file {
  header head;
  control ctl;
  policy_buffer buffers[2];
  rule_state rules[rule_state_count];
  limit_state limits[limit_state_count];
  cell cells[cell_count];
  ledger_entry ledger[ledger_count];
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<file>);
static_assert(std::is_trivially_destructible_v<file>);
static_assert(sizeof(header) == 48);
static_assert(offsetof(file, ctl) == 64);
static_assert(offsetof(file, buffers) == 128);
static_assert(sizeof(policy_buffer) == buffer_words * 8);
static_assert(sizeof(rule_state) == 128);
static_assert(offsetof(rule_state, word) == 16 && offsetof(rule_state, matched) == 24);
static_assert(sizeof(lease_slot) == 16);
static_assert(offsetof(limit_state, granted) == 64);
static_assert(sizeof(limit_state) == 128 + 16 * lease_slot_count);
static_assert(sizeof(cell) == 32);
static_assert(sizeof(ledger_entry) == 192);
static_assert(offsetof(file, rules) == 128 + 2 * buffer_words * 8);
static_assert(offsetof(file, limits) == offsetof(file, rules) + 128 * rule_state_count);
static_assert(offsetof(file, cells) ==
              offsetof(file, limits) + sizeof(limit_state) * limit_state_count);
static_assert(offsetof(file, ledger) == offsetof(file, cells) + 32 * cell_count);
static_assert(sizeof(file) == offsetof(file, ledger) + 192 * ledger_count);

}  // namespace sluice::governance::layout
