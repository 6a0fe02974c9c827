#pragma once
// The bytes of bus.ctl: a small shared-memory block every process of a bus maps.
//
// Same rules as the inbox header: magic + version, fixed offsets (static_assert'ed below),
// only lock-free atomics, no pointers. Values that must be read together (batch size and
// wait; load and its level) share one 64-bit word, so a reader never sees half an update
// and needs no lock or seqlock. Times are CLOCK_MONOTONIC nanoseconds (system-wide, so they
// compare across processes; immune to wall-clock jumps).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace sluice::runtime {

inline constexpr std::size_t cache_line_size = 64;
inline constexpr char control_magic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'C', 'T'};
inline constexpr std::uint32_t control_version = 1;
// Rate-limit token buckets (docs/architecture.md section 4): one cell per key (sender, or
// sender->destination), found by open addressing on a 64-bit key hash.
inline constexpr std::uint32_t rate_bucket_count = 256;
inline constexpr std::size_t rate_bucket_cell_size = 64;

enum class load_level : std::uint32_t { unknown = 0, low = 1, medium = 2, high = 3 };

// Written once by the creator before the file becomes visible (link()), then read-only.
struct alignas(cache_line_size) control_header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t block_size;        // sizeof(control_block): the file's exact size
  std::uint32_t bucket_count;      // rate_bucket_count
  std::uint32_t bucket_cell_size;  // rate_bucket_cell_size
  std::int64_t created_ns;         // CLOCK_REALTIME, for humans
  std::int32_t creator_pid;
};

// Written by the load monitor, read by every sender and `recv --batch auto`.
struct alignas(cache_line_size) control_policy {
  std::atomic<std::uint64_t> batch_and_wait;  // batch size << 32 | backpressure wait ms
  std::atomic<std::uint64_t> load_and_level;  // load per CPU in milli-units << 32 | load_level
  std::atomic<std::int64_t> updated_ns;       // CLOCK_MONOTONIC of the last publish
  std::atomic<std::uint64_t> generation;      // publishes so far
  // CLOCK_MONOTONIC after which readers fall back to their defaults; 0 = until replaced.
  // A monitor that dies must not leave every sender on a high-load wait forever.
  std::atomic<std::int64_t> valid_until_ns;
};

struct alignas(cache_line_size) control_heartbeat {
  std::atomic<std::int32_t> monitor_pid;  // 0: no monitor has ever run
  std::atomic<std::int64_t> beat_ns;      // CLOCK_MONOTONIC of the monitor's last tick
};

struct control_block {
  control_header header;
  control_policy policy;
  control_heartbeat heartbeat;
  // Key of each bucket cell; 0 = free. Claimed once by CAS and never released (a bus has
  // few distinct senders; the table is recreated with the bus).
  alignas(cache_line_size) std::atomic<std::uint64_t> bucket_keys[rate_bucket_count];
  // The cells themselves: backpressure::token_bucket_cell, placed in zero-filled storage
  // (which that type defines as a full bucket).
  alignas(cache_line_size) unsigned char bucket_cells[rate_bucket_count][rate_bucket_cell_size];
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::int32_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<control_block>);
static_assert(offsetof(control_block, header) == 0);
static_assert(offsetof(control_block, policy) == 64);
static_assert(offsetof(control_block, heartbeat) == 128);
static_assert(offsetof(control_block, bucket_keys) == 192);
static_assert(offsetof(control_block, bucket_cells) == 192 + 8 * rate_bucket_count);
static_assert(sizeof(control_block) == 192 + (8 + rate_bucket_cell_size) * rate_bucket_count);
static_assert(offsetof(control_header, version) == 8);
static_assert(offsetof(control_header, block_size) == 12);
static_assert(offsetof(control_header, created_ns) == 24);
static_assert(offsetof(control_policy, batch_and_wait) == 0);
static_assert(offsetof(control_policy, load_and_level) == 8);
static_assert(offsetof(control_policy, updated_ns) == 16);
static_assert(offsetof(control_policy, generation) == 24);
static_assert(offsetof(control_policy, valid_until_ns) == 32);

}  // namespace sluice::runtime
