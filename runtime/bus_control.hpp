#pragma once
// bus.ctl: the bus-wide control block (docs/architecture.md section 2). The load monitor publishes
// the batch size and backpressure wait here so every sender in every process sees them at once (the
// bash tool's `export` in a background loop reached no one). Also holds the monitor's heartbeat and
// the rate limiter's shared token buckets.
//
// Readers that find no bus.ctl use the defaults from config (read_policy). The file is
// 0600, created atomically (fully initialised temp file, then link(2)), validated on open.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "backpressure/token_bucket.hpp"
#include "inbox/files/shared_mapping.hpp"
#include "runtime/bus_control_layout.hpp"
#include "runtime/config.hpp"
#include "runtime/result.hpp"

namespace sluice::runtime {

inline constexpr const char* control_file_name = "bus.ctl";
// Accepted ranges; values outside them are refused by publish() callers' config and
// clamped when read (nothing read from shared memory is trusted).
inline constexpr std::uint32_t max_batch_size = 10000;
inline constexpr std::uint32_t max_backpressure_wait_ms = 60000;

struct rate_policy {
  std::uint32_t batch_size;
  std::uint32_t backpressure_wait_ms;
};

struct load_reading {
  std::uint32_t load_milli;  // load per CPU x 1000 (0.85 -> 850)
  load_level level;
  std::int64_t updated_ns;  // CLOCK_MONOTONIC of the publish; 0 = never published
  std::uint64_t generation;
};

struct monitor_heartbeat {
  std::int32_t pid;  // 0 = never
  std::int64_t beat_ns;
};

class bus_control {
 public:
  // Opens <dir>/bus.ctl, or creates it seeded with `initial` when missing (a creation race
  // between processes has one winner; the others open the winner's file).
  static result<bus_control> open_or_create(const std::filesystem::path& dir,
                                            const rate_policy& initial);
  // Opens an existing bus.ctl. Errors: not_found, path_is_symlink, permission_denied,
  // bad_magic, wrong_version, wrong_size, corrupt.
  static result<bus_control> open(const std::filesystem::path& dir);

  bus_control(bus_control&&) noexcept;
  bus_control& operator=(bus_control&&) noexcept;
  ~bus_control();

  // The last published policy, however old.
  [[nodiscard]] rate_policy policy() const noexcept;
  // The policy to use at now_ns (CLOCK_MONOTONIC): the published one while it is in force,
  // else `defaults` (the caller's own configuration): before anything was published, and once
  // the last publish expired (its load monitor stopped renewing it).
  [[nodiscard]] rate_policy policy_at(std::int64_t now_ns,
                                      const rate_policy& defaults) const noexcept;
  // Where policy_at takes its value from at now_ns.
  enum class origin { configured, load_monitor, apply_rate_limit };
  [[nodiscard]] origin origin_at(std::int64_t now_ns) const noexcept;
  // policy_at the current CLOCK_MONOTONIC time: what a sender should use now.
  [[nodiscard]] rate_policy policy_now(const rate_policy& defaults) const noexcept;
  [[nodiscard]] load_reading load() const noexcept;
  // One publish from the load monitor: policy, load and time, each an atomic word.
  // valid_for_ns > 0 makes the policy expire unless published again within that time (a
  // periodic monitor passes a few intervals); 0 keeps it until the next publish (a one-shot
  // `apply-rate-limit`).
  void publish(const rate_policy& p, std::uint32_t load_milli, load_level level,
               std::int64_t now_ns, std::int64_t valid_for_ns = 0) noexcept;

  void beat(std::int32_t pid, std::int64_t now_ns) noexcept;
  [[nodiscard]] monitor_heartbeat heartbeat() const noexcept;

  // Index of the bucket cell for `key` (a hash of what is rate-limited; 0 is remapped),
  // claiming a free cell on first use. nullopt when all cells are taken by other keys.
  [[nodiscard]] std::optional<std::uint32_t> bucket_index(std::uint64_t key) noexcept;
  // The token bucket in cell `index` (zero-filled = full bucket); nullptr when out of range.
  [[nodiscard]] backpressure::token_bucket_cell* bucket_cell(std::uint32_t index) noexcept;
  // bucket_index + bucket_cell: the shared bucket for a key, nullptr when the table is full
  // (the caller decides whether an unlimited send is acceptable then).
  [[nodiscard]] backpressure::token_bucket_cell* bucket_for(std::uint64_t key) noexcept;

  const std::filesystem::path& path() const noexcept;
  // True once bus.ctl shrank under this process (inbox/shared_mapping.hpp): every read then
  // sees zeros, which the accessors clamp to valid values, and nothing written is kept.
  [[nodiscard]] bool broken() const noexcept { return map_.broken(); }

 private:
  bus_control(inbox::shared_mapping map, std::filesystem::path path) noexcept;
  inbox::shared_mapping map_;
  control_block* block_ = nullptr;  // map_.data()
  std::filesystem::path path_;
};

// Bucket keys: the sender alone, or the sender->destination pair (64-bit FNV-1a, so every
// process maps the same names to the same cell).
[[nodiscard]] std::uint64_t rate_key(std::string_view from) noexcept;
[[nodiscard]] std::uint64_t rate_key(std::string_view from, std::string_view to) noexcept;

// Batch size and backpressure wait from flags / environment / sluice.toml: what senders use
// while no load monitor publishes a policy (none runs, or its last publish expired), and what
// a new bus.ctl starts with.
result<rate_policy> configured_policy(config& c);

// The policy a sender should use now: bus.ctl's unexpired policy when the file exists, else
// `defaults`. A bus.ctl that exists but is invalid is an error (it says why), never silently
// ignored.
result<rate_policy> read_policy(const std::filesystem::path& dir, const rate_policy& defaults);

}  // namespace sluice::runtime
