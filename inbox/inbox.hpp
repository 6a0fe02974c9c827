#pragma once
// sluice inbox: one bounded, crash-safe, shared-memory inbox per agent.
//
// | property              | value                                                              |
// |-----------------------|--------------------------------------------------------------------|
// | producers / consumers | many processes / exactly one consumer process at a time (flock)    |
// | capacity              | MAX_INBOX_SIZE (default 1000) regular slots + critical reserve (64) |
// | slot                  | fixed size, default 4096 B incl. header; larger payload: too_large |
// | order                 | FIFO per lane; critical > high > normal > low, weighted, no starving|
// | full                  | try_push returns full; nothing evicted unless drop_oldest was asked |
// | blocking              | none in try_push/pop_batch; waiting is the caller's choice (doorbell)|
// | delivery              | at-least-once: a batch is freed by commit(); a consumer that dies  |
// |                       | before commit leaves it for the next consumer                      |
// | crash safety          | a producer killed mid-write never wedges the inbox (abandoned slot)|
// | trust                 | nothing read from shared memory is trusted: all bounds-checked     |
//
// (The implementation owner keeps this block true; see DESIGN.md section 3.)
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inbox/breaker_cell.hpp"
#include "inbox/result.hpp"

namespace sluice::inbox {

inline constexpr std::uint32_t default_capacity = 1000;
inline constexpr std::uint32_t default_critical_reserve = 64;
inline constexpr std::uint32_t default_slot_size = 4096;
inline constexpr std::size_t max_agent_name = 64;
inline constexpr std::size_t max_type_name = 32;

// true when name matches ^[A-Za-z0-9_-]{1,64}$
bool is_valid_agent_name(std::string_view name) noexcept;

enum class priority : std::uint8_t { low = 0, normal = 1, high = 2, critical = 3 };
const char* to_string(priority) noexcept;
std::optional<priority> parse_priority(std::string_view) noexcept;

enum class [[nodiscard]] push_result { ok, full, too_large, closed };
const char* to_string(push_result) noexcept;

// reject: a full inbox answers full. drop_oldest (opt-in): the oldest pending regular
// message is evicted and counted in `dropped` so the new one fits.
enum class overflow_policy { reject, drop_oldest };

enum class wake_reason { rang, timed_out };

struct message_view {
  std::string_view from;     // sender agent name (<= 64)
  std::string_view type;     // short message type (<= 32)
  std::string_view payload;  // bytes; must fit the slot, never truncated
  priority prio = priority::normal;
};

struct push_receipt {
  std::uint64_t id = 0;        // unique message id
  std::uint64_t sequence = 0;  // monotonic per inbox
};

// A message as read by the consumer; the views point into shared memory and stay valid
// until the next pop_batch() or commit().
struct received_message {
  std::uint64_t id;
  std::uint64_t sequence;
  std::uint64_t sent_ns;  // CLOCK_REALTIME at send, nanoseconds since the epoch
  priority prio;
  std::string_view from;
  std::string_view type;
  std::string_view payload;
};

// An owned copy, for peek() and for callers that keep messages past commit().
struct message {
  std::uint64_t id = 0;
  std::uint64_t sequence = 0;
  std::uint64_t sent_ns = 0;
  priority prio = priority::normal;
  std::string from;
  std::string type;
  std::string payload;
};

struct create_options {
  std::uint32_t capacity = default_capacity;
  std::uint32_t critical_reserve = default_critical_reserve;
  std::uint32_t slot_size = default_slot_size;
  unsigned mode = 0600;  // 0660 for --group
};

struct stats {
  std::uint32_t capacity = 0;          // regular slots
  std::uint32_t critical_reserve = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t max_payload = 0;       // slot_size minus the slot header
  std::uint64_t size = 0;              // pending messages, all lanes
  std::uint64_t size_by_lane[4] = {};  // indexed by priority
  std::uint64_t enqueued = 0;
  std::uint64_t dequeued = 0;
  std::uint64_t rejected_full = 0;
  std::uint64_t dropped = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t backpressure_waits = 0;
  std::uint64_t send_failures = 0;
  std::int32_t consumer_pid = 0;       // 0 when no consumer holds the inbox
  std::uint64_t created_ns = 0;
};

class consumer;

class inbox {
 public:
  // The inbox file is <bus_dir>/<agent>.inbox. bus_dir is created 0700 when missing.
  static result<inbox> open_or_create(const std::filesystem::path& bus_dir, std::string_view agent,
                                      const create_options& opts = {});
  static result<inbox> open(const std::filesystem::path& bus_dir, std::string_view agent);

  inbox(inbox&&) noexcept;
  inbox& operator=(inbox&&) noexcept;
  ~inbox();

  [[nodiscard]] push_result try_push(const message_view& msg, push_receipt* receipt = nullptr,
                                     overflow_policy policy = overflow_policy::reject) noexcept;

  // Doorbells: spin briefly, then futex-wait up to `timeout`. `rang` means another process
  // rang the bell (space freed / message arrived), `timed_out` that the timer ran out.
  wake_reason wait_not_full(std::chrono::nanoseconds timeout) noexcept;
  wake_reason wait_not_empty(std::chrono::nanoseconds timeout) noexcept;

  stats snapshot() const noexcept;
  std::uint64_t size() const noexcept;
  std::uint32_t capacity() const noexcept;
  bool full() const noexcept;

  // Copies up to max pending messages in delivery order without consuming them.
  std::vector<message> peek(std::size_t max) const;

  // Shared state that upper layers interpret (backpressure/ owns its semantics).
  breaker_cell& breaker() noexcept;
  void count_backpressure_wait() noexcept;
  void count_send_failure() noexcept;

  // Takes the single-consumer lock (flock). Fails with errc::busy and
  // "inbox already has a consumer (pid N)" when another process holds it.
  result<consumer> attach_consumer();

  const std::filesystem::path& path() const noexcept;
  const std::string& agent() const noexcept;

  struct impl;

 private:
  explicit inbox(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
  friend class consumer;
};

class consumer {
 public:
  consumer(consumer&&) noexcept;
  consumer& operator=(consumer&&) noexcept;
  ~consumer();  // releases the lock; an uncommitted batch stays pending

  // Up to max messages: critical first, then weighted round-robin over high/normal/low.
  // Calling pop_batch again without commit() re-reads the same uncommitted batch.
  std::vector<received_message> pop_batch(std::size_t max);
  // Frees the slots of the last batch and rings not_full.
  void commit() noexcept;
  // Drops every pending message (counted as dequeued); returns how many.
  std::uint64_t clear() noexcept;

 private:
  friend class inbox;
  struct state;
  explicit consumer(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
};

}  // namespace sluice::inbox
