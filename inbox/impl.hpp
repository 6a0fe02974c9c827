#pragma once
// inbox::impl: one process's view of a mapped inbox file (internal to inbox/). Everything
// here is process-local; everything behind `h` and `lanes[].base` is shared and untrusted.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>

#include "inbox/files/shared_mapping.hpp"
#include "inbox/inbox.hpp"
#include "inbox/layout.hpp"

namespace sluice::inbox {

namespace detail {

struct lane_geometry {
  std::uint8_t* base = nullptr;  // first slot of this lane's ring inside the mapping
  std::uint64_t mask = 0;        // ring - 1 (rings are powers of two)
  std::uint32_t shift = 0;       // log2(ring)
  std::uint32_t ring = 0;
};

// Weighted round-robin position over the regular lanes (lanes.hpp, round_robin_order).
struct wrr_state {
  std::uint8_t turn = 0;   // index into round_robin_order
  std::uint32_t left = 0;  // messages the current lane may still deliver this turn (0: a full turn)
};

// The one weighted round-robin, for pop_batch and peek alike: a turn takes up to the lane's
// weight from it (fewer when the batch is nearly full), then the next lane has its turn; a lane
// that gives fewer than asked ends its turn early (work-conserving). Stops once every regular
// lane in a row gave nothing. take(lane, want) takes up to want messages and says how many.
template <class Take>
std::size_t weighted_round_robin(wrr_state& w, std::size_t max, Take&& take) noexcept {
  std::size_t n = 0;
  std::size_t idle = 0;
  while (n < max && idle < regular_lane_count) {
    const std::size_t lane = round_robin_order[w.turn];
    if (w.left == 0) w.left = lane_table[lane].weight;
    const std::size_t want = std::min<std::size_t>(w.left, max - n);
    const std::size_t got = take(lane, want);
    n += got;
    w.left -= static_cast<std::uint32_t>(got);
    idle = got == 0 ? idle + 1 : 0;
    if (got < want || w.left == 0) {
      w.turn = static_cast<std::uint8_t>((w.turn + 1) % regular_lane_count);
      w.left = 0;
    }
  }
  return n;
}

// A slot the consumer found claimed but not published, and since when (monotonic ns).
struct pending_claim {
  std::uint64_t pos = 0;
  std::uint64_t ctl = 0;
  std::uint64_t since_ns = 0;
  bool valid = false;
  // The lane's tail when the wait began: every position below it was claimed by since_ns, so
  // one still unpublished behind pos has waited at least as long (resolve_stuck).
  std::uint64_t claimed_below = 0;
};

// A copy of one commit record of the ledger (layout.hpp).
struct ledger_state {
  std::uint64_t head[lane_count] = {};
  std::uint64_t dequeued = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t corrupt = 0;
  std::uint64_t dropped = 0;
};

// The current commit record of a header's ledger.
ledger_state read_ledger(const layout::header& h) noexcept;

// What a consumer's reads came to from its attach on, up to some position. The difference
// between the tallies at two positions is what committing the messages between them writes:
// into the ledger (delivered, abandoned, corrupt) and into the sender cells (fair_share.hpp).
struct read_tally {
  std::uint64_t delivered = 0;
  std::uint64_t abandoned = 0;  // marked slots passed over
  std::uint64_t corrupt = 0;
  // Delivered messages that were counted against a sender, per cell.
  std::uint64_t counted_out[layout::sender_cells] = {};
};

// A position a pipelined read (consumer::pop_next) ended at, to commit up to later.
struct read_mark {
  std::uint64_t number = 0;
  std::uint64_t cursor[lane_count] = {};
  wrr_state wrr;
  read_tally tally;
};

// The single consumer's cursors. committed mirrors the ledger (which only this process
// writes while it holds the flock); cursor runs ahead over the uncommitted batch.
struct consumer_cursors {
  ledger_state committed;  // the current ledger record, as this process wrote it
  std::uint64_t cursor[lane_count] = {};
  wrr_state wrr_committed;
  wrr_state wrr;
  read_tally read;             // up to cursor
  read_tally committed_tally;  // up to committed.head
  pending_claim pending[lane_count];
  std::uint64_t heartbeat_ns = 0;  // last value stored in header.consumer.heartbeat_ns
  std::uint32_t empty_polls = 0;
  std::uint64_t last_sweep_ns = 0;  // monotonic ns of the last periodic resolve_stuck
  // watch_admissions: the smallest leak estimate seen since since_ns, over `samples` looks.
  std::int64_t leak_min = 0;
  std::uint64_t leak_since_ns = 0;
  std::uint32_t leak_samples = 0;
  bool blocked = false;  // last pop stopped at a claimed, unpublished slot
  // Some message read since the last full commit was counted against a sender: only then do
  // the tallies' sender cells differ, and only then are they looked at.
  bool any_counted = false;
};

}  // namespace detail

struct inbox::impl {
  std::filesystem::path path;
  std::string agent;
  int fd = -1;  // our own O_NOFOLLOW descriptor; also the flock handle for drop-oldest
  shared_mapping region;
  layout::header* h = nullptr;
  detail::lane_geometry lanes[lane_count];
  std::uint32_t capacity = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t max_payload = 0;
  std::uint64_t id_prefix = 0;  // incarnation << 40
  // Pushes this process made per lane, counted up to the ring size: during its first lap a
  // producer reads a slot before writing it (see push.cpp, touch_first_lap). Atomic because
  // threads of one process may push through the same inbox object.
  std::atomic<std::uint32_t> first_lap_pushes[lane_count] = {};
  // The consumer's `freed` as this process last read it. `freed` only grows, so an old value
  // admits less, never more; reading it fresh on every push cost a cross-core transfer per
  // message (the consumer writes it on every commit). See push.cpp, step 1.
  std::atomic<std::uint64_t> freed_seen{0};
  // header.backed as this process last read it: bits are never cleared, so once seen a lane
  // stays backed and its check costs no shared read.
  mutable std::atomic<std::uint32_t> backed_seen{0};

  // Admission limits each sender to its fair share of the upper half (fair_share.hpp).
  std::atomic<bool> share_fairly{true};
  // The last refusal of a push through this object was for a fair share, not for room: then
  // wait_not_full waits for the consumer's next commit instead of for room.
  std::atomic<bool> refused_over_share{false};
  // Set by a refusal (for room or for a fair share), cleared by the next admission: while set,
  // admission looks at the room and the share before it takes a ticket, so a sender that keeps
  // being refused holds no ticket while it is. A refused ticket still counts against the room
  // until it is given back, and a sender descheduled in between would make every other sender
  // see a full inbox for as long as the scheduler keeps it off the CPU.
  std::atomic<bool> look_before_ticket{false};
  // The sender this process last found alone among active senders, mixed with the
  // sender_joins it saw then (fair_share.cpp): while both hold, it need not scan the cells.
  std::atomic<std::uint64_t> alone_key{0};

  // Consumer side, valid while a consumer is attached through this object.
  bool consuming = false;
  detail::consumer_cursors cons;
  std::chrono::nanoseconds grace{std::chrono::milliseconds(100)};

  layout::slot_header* slot(std::size_t lane, std::uint64_t pos) const noexcept {
    const auto& g = lanes[lane];
    return reinterpret_cast<layout::slot_header*>(g.base + (pos & g.mask) * slot_size);
  }
  std::uint32_t lap_of(std::size_t lane, std::uint64_t pos) const noexcept {
    return static_cast<std::uint32_t>(pos >> lanes[lane].shift);
  }
  // The slot at pos, its control word (acquire: a published message's bytes are visible
  // after it; sync: publish) and what it says about pos.
  layout::slot_state state_at(std::size_t lane, std::uint64_t pos,
                              std::uint64_t& ctl) const noexcept {
    ctl = slot(lane, pos)->ctl.load(std::memory_order_acquire);  // sync: publish
    return layout::decode(ctl, lap_of(lane, pos));
  }

  ~impl();

  // True when the lane's ring is backed by memory, i.e. a producer has used it: readers skip
  // a lane that is not, since touching its sparse pages on a full tmpfs raises SIGBUS.
  bool lane_in_use(std::size_t lane) const noexcept {
    const std::uint32_t bit = 1u << lane;
    // relaxed: process-local cache of a bit that is never cleared.
    if ((backed_seen.load(std::memory_order_relaxed) & bit) != 0) return true;
    const std::uint32_t now = h->backed.mask.load(std::memory_order_acquire);  // sync: backing
    backed_seen.fetch_or(now, std::memory_order_relaxed);                      // relaxed: as above
    return (now & bit) != 0;
  }
  // Backs the lane's ring before a producer first claims a position in it (push.cpp).
  // false when the filesystem has no room: the push then answers no_space.
  bool back_lane(std::size_t lane) noexcept;

  // Ledger (open.cpp). read_ledger: the current record (any process; a record that a later
  // commit is rewriting reads as newer values, never older ones). write_ledger: the flock
  // holder commits `next` with one release store.
  detail::ledger_state read_ledger() const noexcept;
  void write_ledger(const detail::ledger_state& next) noexcept;
  // Called by a new flock holder (consumer attach, drop-oldest eviction) before it acts:
  // validates the heads against the tails, frees slots a holder killed inside commit left
  // committed but unfreed, publishes `freed`, and (give_back_leaks, a consumer attaching)
  // gives back admissions of producers that died before claiming a position. Fills `st` with
  // the current record; false (and nothing changed) when the lane indexes lie, *bad_lane then
  // says which lane.
  bool adopt_ledger(detail::ledger_state& st, std::size_t* bad_lane, bool give_back_leaks) noexcept;
  void publish_freed(const detail::ledger_state& st) noexcept;
  // Admissions taken that no placed position explains: those of producers that died between
  // admission and position claim, plus live ones between the two right now. Never below the
  // dead ones' count (see open.cpp). Consumer side only, with `freed` up to date.
  std::int64_t leaked_admissions() const noexcept;
  void watch_admissions() noexcept;  // consume.cpp

  // consume.cpp
  std::size_t take(std::size_t lane, received_message* out, std::size_t k) noexcept;
  bool resolve_stuck(bool read_tails) noexcept;  // true when a stuck slot was skipped
  // Marks the slot at pos abandoned (or corrupt, when it is not at its lap); false when a
  // producer changed it first.
  bool mark_skipped(std::size_t lane, std::uint64_t pos, std::uint64_t ctl) noexcept;
  // Keeps the consumer's view of a stuck slot in the file (header.stuck), and loads it at
  // attach together with skipping dead claimants at the heads.
  void remember_stuck(std::size_t lane, const detail::pending_claim& p) noexcept;
  void adopt_stuck_claims() noexcept;
  bool sweep_due() noexcept;                 // time for a periodic resolve_stuck
  bool has_work(bool may_resolve) noexcept;  // something pop_batch can act on
  // Something pop_batch would return or pass over at `cursor` (never a whole ring past
  // `committed`), from the shared memory alone.
  bool readable_at(const std::uint64_t* cursor, const std::uint64_t* committed) const noexcept;
  bool anything_in_flight() const noexcept;
  // push.cpp
  // freed + releases: admissions given back, with `freed` as this process last read it
  // (freed_seen). Read before taking a ticket (push.cpp, step 1).
  std::uint64_t admissions_returned() const noexcept;
  // Reads `freed` into freed_seen; true when it moved on since the last read.
  bool refresh_freed() noexcept;
  bool try_evict_oldest() noexcept;
  void ring_not_empty() noexcept;
  void ring_not_full() noexcept;
};

namespace detail {
struct inbox_access {
  static inbox::impl& of(inbox& b) noexcept { return *b.p_; }
};
}  // namespace detail

struct consumer::state {
  inbox::impl* in = nullptr;
  int lock_fd = -1;              // a second open file description: flock is per description
  std::uint64_t armed_bell = 0;  // the name arm() last wrote into the header
  // Where each pipelined read since the last commit or re-read ended, oldest first.
  std::deque<detail::read_mark> marks;
  std::uint64_t last_mark = 0;
};

// Wire format checks shared by the consumer and peek(): copies the lengths out of shared
// memory once, bounds-checks them, and only then builds views.
bool decode_slot(const layout::slot_header* s, std::uint32_t max_payload, std::size_t lane,
                 received_message& out) noexcept;

}  // namespace sluice::inbox
