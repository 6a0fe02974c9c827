#pragma once
// The bytes of an inbox file: what lives where in shared memory (internal to inbox/).
//
// | property   | value                                                                       |
// |------------|-----------------------------------------------------------------------------|
// | file       | header (4 KiB) | critical ring | normal ring | high ring | low ring          |
// | rings      | one ring of slots per lane; regular rings have next_pow2(capacity) slots,  |
// |            | the critical ring next_pow2(critical_reserve); a shared admission count    |
// |            | (claims - releases <= capacity) bounds high + normal + low together        |
// | memory     | file = 4 KiB + (3 x ring + critical ring) x slot_size: 12.9 MB at defaults |
// |            | (1024 slots per regular lane). Creation backs header + critical + normal   |
// |            | ring (4.5 MB at defaults); the high and low rings are backed by the first  |
// |            | producer that uses them (posix_fallocate, then a bit in `backed`), so a   |
// |            | full filesystem answers no_space to that push instead of SIGBUS, and a     |
// |            | reader never touches a ring whose bit is not set                           |
// | slot ctl   | 64-bit word: lap (high 32 bits) | owner (low 32 bits), see below           |
// | pointers   | none: every position is an index, bounds-checked before use                |
//
// A slot at ring index i serves positions pos with pos % ring == i; lap = pos / ring.
// Owner encoding (lets an all-zero file be a valid empty inbox, so creation touches nothing):
//   (lap, 0)                   free for position lap*ring+i
//   (lap, pid)                 claimed by process pid (stamped after the tail claim)
//   (lap, pid | published_bit) written and visible to the consumer
//   (lap, abandoned_owner)     skipped by the consumer: claimant died or never stamped
//   (lap, corrupt_owner)       skipped by the consumer: the slot lied (lengths, lap)
//   commit stores (lap + 1, 0) free for the next lap.
//
// The ledger (one store commits): the consumer's heads and the counters that say how every
// committed position ended (dequeued, abandoned, corrupt, dropped) live in two records; the
// flock holder writes the spare record completely, then flips `seq` with one release store.
// A holder killed at any point leaves either the old or the new record current, never a mix,
// so heads and counters always agree: sum(head) == dequeued + abandoned + corrupt + dropped.
// Slots are freed only after the flip; a holder killed between the flip and the last free
// leaves committed slots unfreed just below a head, which the next flock holder frees
// (impl::adopt_ledger) before it publishes `freed`.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "inbox/breaker_cell.hpp"
#include "inbox/lanes.hpp"

namespace sluice::inbox::layout {

inline constexpr std::size_t cache_line = 64;
inline constexpr char magic[8] = {'S', 'L', 'U', 'I', 'C', 'E', '\0', '\0'};
inline constexpr std::uint32_t layout_version = 4;
inline constexpr std::uint32_t header_size = 4096;

// Limits checked at creation and again on open (a header is never trusted).
inline constexpr std::uint32_t min_capacity = 1;
inline constexpr std::uint32_t max_capacity = 1u << 20;
inline constexpr std::uint32_t min_critical_reserve = 1;
inline constexpr std::uint32_t max_critical_reserve = 1u << 16;
inline constexpr std::uint32_t min_slot_size = 256;
inline constexpr std::uint32_t max_slot_size = 1u << 20;
inline constexpr std::uint64_t max_file_size = 16ull << 30;

inline constexpr std::uint32_t published_bit = 1u << 30;
inline constexpr std::uint32_t abandoned_owner = 1u << 31;
inline constexpr std::uint32_t corrupt_owner = abandoned_owner | 1u;
inline constexpr std::uint32_t pid_mask = published_bit - 1;

// Skipped by the consumer (either marker; any other value with the top bit set is a lie and
// is treated as corrupt).
constexpr bool is_skipped(std::uint32_t owner) noexcept {
  return (owner & abandoned_owner) != 0;
}

constexpr std::uint64_t make_ctl(std::uint64_t lap, std::uint32_t owner) noexcept {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(lap)) << 32) | owner;
}
constexpr std::uint32_t ctl_lap(std::uint64_t ctl) noexcept {
  return static_cast<std::uint32_t>(ctl >> 32);
}
constexpr std::uint32_t ctl_owner(std::uint64_t ctl) noexcept {
  return static_cast<std::uint32_t>(ctl);
}

// What a slot's control word says about the position whose lap is `lap`: the one decoder that
// the producers, the consumer, peek and the doctor share.
enum class slot_state : std::uint8_t {
  free,       // (lap, 0): waiting for its producer's stamp
  claimed,    // (lap, pid): stamped, being written
  published,  // (lap, pid | published_bit): a message
  abandoned,  // (lap, abandoned_owner): skipped, its claimant died
  corrupt,    // (lap, any other owner with the top bit): skipped, the slot lied
  other_lap,  // not this lap's state: free for an earlier lap, committed, or a lie
};

constexpr slot_state decode(std::uint64_t ctl, std::uint32_t lap) noexcept {
  if (ctl_lap(ctl) != lap) return slot_state::other_lap;
  const std::uint32_t owner = ctl_owner(ctl);
  if (owner == abandoned_owner) return slot_state::abandoned;
  if (is_skipped(owner)) return slot_state::corrupt;
  if ((owner & published_bit) != 0) return slot_state::published;
  return owner == 0 ? slot_state::free : slot_state::claimed;
}

constexpr bool is_skipped(slot_state s) noexcept {
  return s == slot_state::abandoned || s == slot_state::corrupt;
}

// The pid that stamped the slot (0: nobody).
constexpr std::uint32_t claimant(std::uint64_t ctl) noexcept {
  return ctl_owner(ctl) & pid_mask;
}

// Written once into a private temp file before it is linked under its public name, so no
// process ever sees a half-written identity; plain (non-atomic) fields for that reason.
struct identity {
  char magic[8];
  std::uint32_t layout_version;
  std::uint32_t header_size;
  std::uint32_t capacity;          // regular messages (high + normal + low)
  std::uint32_t critical_reserve;  // critical ring size (a power of two)
  std::uint32_t slot_size;
  std::uint32_t ring_size;    // slots per regular lane: next_pow2(capacity)
  std::uint32_t incarnation;  // random 24 bits: top of every message id of this file
  std::uint32_t reserved;
  std::uint64_t created_ns;  // CLOCK_REALTIME
  std::uint64_t file_size;
};

struct alignas(cache_line) padded_u64 {
  std::atomic<std::uint64_t> value;
};

// A futex word and the number of processes sleeping on it, on one line: the ringer reads
// `waiters` on every publish, and only touches `bell` (and makes a syscall) when it is not 0.
struct alignas(cache_line) doorbell {
  std::atomic<std::uint32_t> bell;
  std::atomic<std::uint32_t> waiters;
  // The name of the consumer's armed bell (bell.hpp), 0 when none; the first ringer takes it.
  // Only not_empty's is used.
  std::atomic<std::uint64_t> socket;
};

// Counters any process may bump; what committed positions became is in the ledger.
struct alignas(cache_line) counters {
  std::atomic<std::uint64_t> rejected_full;
  std::atomic<std::uint64_t> backpressure_waits;
  std::atomic<std::uint64_t> send_failures;
  std::atomic<std::uint64_t> corrupt_pushes;       // pushes refused because the file lied
  std::atomic<std::uint64_t> fair_share_refusals;  // of rejected_full: a sender over its share
};

// One committed state of the consumer side (see "The ledger" above).
struct commit_record {
  std::atomic<std::uint64_t> head[lane_count];  // first uncommitted position, per lane
  std::atomic<std::uint64_t> dequeued;          // committed positions that were delivered
  std::atomic<std::uint64_t> abandoned;         // ... skipped: the claimant died
  std::atomic<std::uint64_t> corrupt;           // ... skipped: the slot lied
  std::atomic<std::uint64_t> dropped;           // ... evicted by drop_oldest
};

struct alignas(cache_line) ledger {
  commit_record rec[2];
  std::atomic<std::uint64_t> seq;  // rec[seq & 1] is current
};

struct alignas(cache_line) consumer_info {
  std::atomic<std::int32_t> pid;  // last consumer that attached; 0 after a clean detach
  std::atomic<std::uint32_t> closed;
  std::atomic<std::uint64_t>
      heartbeat_ns;  // CLOCK_MONOTONIC of its last attach/commit (1 ms grain)
};

// Lanes whose ring is backed by memory, bit (1 << lane). Set once per lane, by the creator
// (critical, normal) or by the first producer of the lane after its posix_fallocate; never
// cleared. On a line of its own that is written at most twice in an inbox's life, so readers
// that poll it keep it in their caches.
struct alignas(cache_line) lane_backing {
  std::atomic<std::uint32_t> mask;
};

// A slot the flock holder found claimed but unpublished, and since when (CLOCK_MONOTONIC),
// kept in the file so the grace period runs across consumer processes: a one-shot `recv`
// every few seconds would otherwise start the clock again each time and never skip it.
// Written only by the flock holder.
struct stuck_claim {
  std::atomic<std::uint64_t> pos;
  std::atomic<std::uint64_t> ctl;
  std::atomic<std::uint64_t> since_ns;  // 0: none recorded
};

struct alignas(cache_line) stuck_claims {
  stuck_claim lane[lane_count];
};

// Fair share (fair_share.hpp): messages held in the inbox's upper half, per sender. A cell
// belongs to the sender whose name hashes to `sender` while it holds messages or was refused
// lately; `pending` may read below 0 for a moment (the consumer can count a message out before
// its producer counted it in) and drifts that way after crashes, never upwards.
inline constexpr std::size_t sender_cells = 32;
struct alignas(cache_line) sender_cell {
  std::atomic<std::uint64_t> sender;  // FNV-1a of the name, never 0; 0: never used
  std::atomic<std::int64_t> pending;
  std::atomic<std::uint64_t> refused_ns;  // CLOCK_MONOTONIC of its last refusal (0: none)
};

struct header {
  identity id;
  consumer_info consumer;
  // claims: every regular admission and every sequence number (fetch_add, producers only).
  // releases: refused admissions (producers) and admissions of producers that died before
  // claiming a position (given back by the consumer). freed: regular positions freed, i.e.
  // the sum of the regular heads (stored only by the flock holder, after the slots are free).
  // A producer is admitted while its ticket (claims before its own) minus releases + freed,
  // both read before it took the ticket, is below capacity (push.cpp, step 1).
  padded_u64 claims;
  padded_u64 releases;
  doorbell not_empty;
  doorbell not_full;
  counters count;
  breaker_cell breaker;
  padded_u64 tail[lane_count];  // next position to claim, per lane (producers)
  ledger commits;               // heads and counters of the consumer side
  padded_u64 freed;
  lane_backing backed;
  stuck_claims stuck;
  sender_cell senders[sender_cells];
  // Bumped whenever a sender becomes active (its first counted message, or a refusal), so a
  // sender that found itself alone need not look at every cell again until this moves.
  padded_u64 sender_joins;
};

struct slot_header {
  std::atomic<std::uint64_t> ctl;
  std::uint64_t id;
  std::uint64_t sequence;
  std::uint64_t sent_ns;
  std::uint32_t payload_len;
  std::uint8_t from_len;
  std::uint8_t type_len;
  std::uint8_t prio;
  std::uint8_t sender_cell;  // 1 + the cell that counted this message in; 0: not counted
  // Then, packed so a small message touches as few cache lines as possible:
  // from[from_len] type[type_len] payload[payload_len].
};
inline constexpr std::uint32_t slot_fixed_size = 40;
// Room a slot keeps for its header whatever the names: fixed part + the longest sender (64)
// + the longest type (32): every message may carry max_payload_of(slot_size) bytes.
inline constexpr std::uint32_t slot_header_size = slot_fixed_size + 64 + 32;
// The payload a slot of slot_size bytes takes (slot_size is at least min_slot_size).
constexpr std::uint32_t max_payload_of(std::uint32_t slot_size) noexcept {
  return slot_size - slot_header_size;
}

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int32_t>::is_always_lock_free);
static_assert(sizeof(identity) == 56);
static_assert(offsetof(header, id) == 0);
static_assert(offsetof(header, consumer) == 64);
static_assert(offsetof(header, claims) == 128);
static_assert(offsetof(header, releases) == 192);
static_assert(offsetof(header, not_empty) == 256);
static_assert(offsetof(header, not_full) == 320);
static_assert(offsetof(header, count) == 384);
static_assert(offsetof(header, breaker) == 448);
static_assert(offsetof(header, tail) == 512);
static_assert(sizeof(commit_record) == 64);
static_assert(offsetof(header, commits) == 768);
static_assert(offsetof(ledger, seq) == 128);
static_assert(offsetof(header, freed) == 960);
static_assert(offsetof(header, backed) == 1024);
static_assert(offsetof(header, stuck) == 1088);
static_assert(offsetof(header, senders) == 1216);
static_assert(offsetof(header, sender_joins) == 1216 + 64 * sender_cells);
static_assert(sizeof(header) == 1216 + 64 * (sender_cells + 1) && sizeof(header) <= header_size);
static_assert(offsetof(slot_header, ctl) == 0);
static_assert(offsetof(slot_header, payload_len) == 32);
static_assert(sizeof(slot_header) == slot_fixed_size);
static_assert(slot_header_size == 136);
static_assert(header_size % cache_line == 0 && min_slot_size % cache_line == 0);

constexpr std::uint32_t next_pow2(std::uint32_t v) noexcept {
  std::uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// Where everything lies in a file of the given geometry: the one formula that creation,
// validation on open and the mapping all use.
struct geometry {
  std::uint32_t ring_size = 0;      // slots per regular lane: next_pow2(capacity)
  std::uint32_t critical_ring = 0;  // slots of the critical lane: next_pow2(reserve)
  std::uint32_t lane_ring[lane_count] = {};
  std::uint64_t lane_offset[lane_count] = {};  // bytes from the start of the file
  std::uint64_t file_size = 0;
  std::uint64_t backed_at_creation = 0;  // [0, this) is backed when the file is made
};

// nullopt when a value is out of the ranges above.
constexpr std::optional<geometry> geometry_of(std::uint32_t capacity, std::uint32_t reserve,
                                              std::uint32_t slot_size) noexcept {
  if (capacity < min_capacity || capacity > max_capacity) return std::nullopt;
  if (reserve < min_critical_reserve || reserve > max_critical_reserve) return std::nullopt;
  if (slot_size < min_slot_size || slot_size > max_slot_size || slot_size % cache_line != 0)
    return std::nullopt;
  geometry g;
  g.ring_size = next_pow2(capacity);
  g.critical_ring = next_pow2(reserve);
  std::uint64_t offset = header_size;
  g.backed_at_creation = offset;
  for (const std::size_t lane : file_order) {
    g.lane_ring[lane] = lane == critical_lane ? g.critical_ring : g.ring_size;
    g.lane_offset[lane] = offset;
    offset += static_cast<std::uint64_t>(g.lane_ring[lane]) * slot_size;
    if (lane_table[lane].backed_at_creation) g.backed_at_creation = offset;
  }
  g.file_size = offset;
  if (g.file_size > max_file_size) return std::nullopt;
  return g;
}

// Creation backs one range from the start of the file, so the lanes it backs come first.
static_assert([] {
  bool unbacked_seen = false;
  for (const std::size_t lane : file_order) {
    if (lane_table[lane].backed_at_creation && unbacked_seen) return false;
    unbacked_seen = unbacked_seen || !lane_table[lane].backed_at_creation;
  }
  return true;
}());

}  // namespace sluice::inbox::layout
