#pragma once
// sluice inbox: one bounded, crash-safe, shared-memory inbox per agent.
//
// clang-format off
// | property        | value                                                                  |
// |-----------------|------------------------------------------------------------------------|
// | producers /     | many processes / exactly one consumer process at a time (flock)        |
// | consumers       |                                                                        |
// | capacity        | MAX_INBOX_SIZE (default 1000) regular slots shared by high/normal/low, |
// |                 | plus a critical reserve (default 64, rounded up to a power of two)     |
// | slot            | fixed size, default 4096 B incl. a 136 B header; a larger payload (or  |
// |                 | a sender name > 64 / type > 32 chars) is too_large, never truncated    |
// | memory          | one ring per lane (layout.hpp): file 12.9 MB at defaults, of which     |
// |                 | 4.5 MB (header, critical, normal) is reserved at creation; the high    |
// |                 | and low rings take memory only once used. /dev/shm in containers is    |
// |                 | often 64 MB: about 4 busy inboxes at defaults; lower the capacity or   |
// |                 | the slot size there                                                    |
// | order           | FIFO per lane; critical first, then high:normal:low weighted 4:2:1     |
// |                 | (round-robin, work-conserving), so low is never starved                |
// | full            | try_push returns full; nothing is evicted unless drop_oldest was       |
// |                 | asked, which evicts only while no consumer is attached (counted)       |
// | blocking        | none in try_push/pop_batch; waiting is the caller's choice (doorbell,  |
// |                 | futex, no syscall on the push path while nobody sleeps)                |
// | delivery        | at-least-once: a batch is freed by commit(); a consumer that dies      |
// |                 | before commit leaves it for the next consumer                          |
// | crash safety    | a producer killed mid-write never wedges the inbox: after the grace    |
// |                 | period (consumer_options, default 100 ms) its slot is skipped and      |
// |                 | counted as abandoned; a live, slow producer is waited for. A consumer  |
// |                 | killed anywhere, even inside commit, leaves counters that add up; a    |
// |                 | producer killed between admission and claim costs one slot of capacity |
// |                 | for about a grace period (the consumer gives it back)                  |
// | ids             | id = 24-bit random incarnation of the file << 40 | inbox sequence; the |
// |                 | sequence is a fetch_add on the header, so ids never repeat within an   |
// |                 | inbox (2^40 messages) and differ between re-created inboxes            |
// | trust           | nothing read from shared memory is trusted: all bounds-checked; a      |
// |                 | message with lying lengths is skipped and counted as corrupt           |
// clang-format on
//
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inbox/bell.hpp"
#include "inbox/breaker_cell.hpp"
#include "inbox/lanes.hpp"
#include "inbox/result.hpp"

namespace sluice::inbox {

inline constexpr std::uint32_t default_capacity = 1000;
inline constexpr std::uint32_t default_critical_reserve = 64;
inline constexpr std::uint32_t default_slot_size = 4096;
inline constexpr std::size_t max_agent_name = 64;
inline constexpr std::size_t max_type_name = 32;

// true when name matches ^[A-Za-z0-9_-]{1,64}$
bool is_valid_agent_name(std::string_view name) noexcept;

const char* to_string(priority) noexcept;  // the lane's name in lanes.hpp
std::optional<priority> parse_priority(std::string_view) noexcept;

// no_space: the lane's ring could not be backed (the filesystem is full); nothing was written.
// broken: the inbox file shrank under this process or could not be backed while in use
// (inbox::broken()); the message did not reach the file.
enum class [[nodiscard]] push_result{ok, full, too_large, closed, no_space, broken};
const char* to_string(push_result) noexcept;

// reject: a full inbox answers full. drop_oldest (opt-in): the oldest pending regular
// message is evicted and counted in `dropped` so the new one fits.
enum class overflow_policy { reject, drop_oldest };

// broken: the inbox can no longer be used from this process (inbox::broken()).
enum class wake_reason { rang, timed_out, broken };

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
// until the next pop_batch() or until the message is committed (commit, commit_through).
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
  std::uint32_t capacity = 0;  // regular slots
  std::uint32_t critical_reserve = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t max_payload = 0;                // slot_size minus the slot header
  std::uint64_t size = 0;                       // pending messages, all lanes
  std::uint64_t size_by_lane[lane_count] = {};  // indexed by priority
  // dequeued, dropped, abandoned and (slot) corrupt count committed positions and change
  // with the heads in one store (layout.hpp, the ledger), so after a crash anywhere:
  // enqueued + abandoned + corrupt == dequeued + size + abandoned + corrupt + dropped.
  std::uint64_t enqueued = 0;
  std::uint64_t dequeued = 0;
  std::uint64_t rejected_full = 0;
  std::uint64_t fair_share_refusals = 0;  // of rejected_full: a sender already held its fair share
  std::uint64_t dropped = 0;
  std::uint64_t abandoned = 0;  // skipped slots of producers that died before publishing
  std::uint64_t backpressure_waits = 0;
  std::uint64_t send_failures = 0;
  std::uint64_t corrupt = 0;  // slots skipped because they lied, plus pushes a lying file refused
  std::int32_t consumer_pid = 0;  // 0 when no consumer holds the inbox
  // The pid the header records, alive or not: a consumer killed before it let go leaves its
  // pid here (consumer_pid is then 0), which is how `sluice top` tells "dead" from "none".
  std::int32_t recorded_consumer_pid = 0;
  std::uint64_t created_ns = 0;
};

struct consumer_options {
  // How long a claimed but unpublished slot is waited for before its claimant's pid is
  // checked (and the slot skipped if that process is gone).
  std::chrono::nanoseconds abandon_grace = std::chrono::milliseconds(100);
};

class consumer;

// Where a consumer's reads stand (consumer::position), per lane: a copy another thread can
// wait beyond (inbox::wait_past).
struct read_position {
  std::uint64_t cursor[lane_count] = {};     // the next position to read
  std::uint64_t committed[lane_count] = {};  // the oldest position not yet freed
};
namespace detail {
struct inbox_access;      // the doctor's way to the raw mapping (impl.hpp)
struct forked_consumers;  // forked_consumers.hpp
struct wrr_state;
struct read_tally;
}  // namespace detail

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
  // Pushes msgs[0..n) in order, taking one admission and one position claim per run of
  // same-priority messages; stops at the first message that does not go in. Returns how many
  // went in; *stopped says why it stopped (ok when all did).
  [[nodiscard]] std::size_t try_push_batch(const message_view* msgs, std::size_t n,
                                           push_result* stopped = nullptr) noexcept;

  // Doorbells: spin briefly, then futex-wait up to `timeout`. `rang` means the condition holds
  // or another process rang the bell (space freed / message arrived, or a dead producer's slot
  // can now be skipped by pop_batch); `timed_out` that the timer ran out. wait_not_full is
  // about regular space (critical messages have their own reserve). wait_not_empty looks
  // past the calling process's uncommitted batch: commit before waiting.
  wake_reason wait_not_full(std::chrono::nanoseconds timeout) noexcept;
  wake_reason wait_not_empty(std::chrono::nanoseconds timeout) noexcept;
  // wait_not_empty for a thread beside the consumer's own (a binding that waits with its
  // interpreter lock released while another thread pops, commits or lets go): waits for
  // something pop_batch would return or pass over beyond `from`, and touches nothing but the
  // shared memory. It resolves nothing a dead producer left (pop_batch does): pop after each
  // wait, and wait in slices.
  wake_reason wait_past(const read_position& from, std::chrono::nanoseconds timeout) const noexcept;

  stats snapshot() const noexcept;
  std::uint64_t size() const noexcept;
  std::uint32_t capacity() const noexcept;
  bool full() const noexcept;

  // Copies up to max pending messages in delivery order without consuming them.
  std::vector<message> peek(std::size_t max) const;
  // The send time (CLOCK_REALTIME ns) of the oldest pending message: the earliest of each
  // lane's first readable message, read in place (nothing copied). nullopt when none is.
  std::optional<std::uint64_t> oldest_sent_ns() const noexcept;

  // True once the file shrank under this process (someone truncated it) or a page of it could
  // not be backed: the mapping then reads zeros and nothing written reaches the file
  // (shared_mapping.hpp). Pushes answer broken, pop_batch and peek find nothing, waits answer
  // broken at once; the caller reports it and drops the inbox object.
  bool broken() const noexcept;

  // Marks the inbox closed: every later push answers closed; wakes all sleepers.
  void close() noexcept;
  bool closed() const noexcept;

  // Whether this process's pushes are held to their sender's fair share of the upper half
  // (on by default; docs/architecture.md, "Fair share"). Off only to measure what it buys: a
  // process with it off takes the others' shares.
  void share_fairly(bool on) noexcept;

  // Shared state that upper layers interpret (backpressure/ owns its semantics).
  breaker_cell& breaker() noexcept;
  void count_backpressure_wait() noexcept;
  void count_send_failure() noexcept;

  // Takes the single-consumer lock (flock). Fails with errc::busy and
  // "inbox already has a consumer (pid N)" when another process holds it.
  // The inbox must outlive the consumer.
  result<consumer> attach_consumer(const consumer_options& opts = {});

  const std::filesystem::path& path() const noexcept;
  const std::string& agent() const noexcept;

  struct impl;

 private:
  explicit inbox(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
  friend class consumer;
  friend struct detail::inbox_access;
};

class consumer {
 public:
  consumer(consumer&&) noexcept;
  consumer& operator=(consumer&&) noexcept;
  ~consumer();  // releases the lock; an uncommitted batch stays pending

  // Up to max messages: critical first, then weighted round-robin over high/normal/low.
  // Calling pop_batch again without commit() re-reads the same uncommitted batch.
  std::vector<received_message> pop_batch(std::size_t max);
  // The same into a caller's buffer (no allocation); returns how many were written.
  std::size_t pop_batch(received_message* out, std::size_t max) noexcept;
  // Frees the slots of every message read since the last commit and rings not_full.
  void commit() noexcept;

  // Pipelined reading, for a consumer that hands messages on and learns only later that they
  // are safe (the bridge): pop_next reads on after the uncommitted messages, where pop_batch
  // would read them again, and numbers its batch (in `batch`, when it returns messages).
  // commit_through(batch) commits every message read up to the end of that batch and leaves
  // the later ones pending; false when no such batch was read since the last commit or
  // pop_batch (nothing is done). A consumer that dies leaves everything not committed
  // pending for the next one, in order, as always.
  std::size_t pop_next(received_message* out, std::size_t max, std::uint64_t& batch);
  bool commit_through(std::uint64_t batch) noexcept;
  // Drops every pending message (counted as dequeued); returns how many.
  std::uint64_t clear() noexcept;

  // For a consumer that waits in an event loop (bell.hpp): arms `b` as this inbox's bell, so
  // the next message published rings it. false when a message is already there (nothing is
  // armed: pop it). Like wait_not_empty, looks past the uncommitted batch. Armed until it
  // rings, disarm(), or this consumer is released. The waiter still re-checks every
  // bell_recheck.
  bool arm(const bell& b) noexcept;
  void disarm() noexcept;

  // Where the reads stand now: after pop_batch, past the batch it returned.
  read_position position() const noexcept;
  // What wait_not_empty does on its own while it waits: gives back an admission a dead
  // producer left without a position, and lets pop_batch skip a slot one claimed and never
  // published, each once it has waited a grace period. A consumer that waits with wait_past
  // calls it after each wait that brought nothing.
  void resolve_stuck() noexcept;

  // False in a child forked (without exec) from the process that attached: the lock stays
  // with the parent, and here this consumer reads, commits and arms nothing; release it and
  // attach anew (busy while the parent consumes). forked_consumers.hpp says why.
  bool held() const noexcept;

 private:
  friend class inbox;
  friend struct detail::forked_consumers;
  struct state;
  explicit consumer(std::unique_ptr<state> s);
  std::size_t read_on(received_message* out, std::size_t max) noexcept;
  void commit_to(const std::uint64_t* cursor, const detail::wrr_state& wrr,
                 const detail::read_tally& tally) noexcept;
  void release() noexcept;
  std::unique_ptr<state> s_;
};

}  // namespace sluice::inbox
