#pragma once
// Fair share between senders (internal to inbox/; docs/architecture.md, "Fair share").
//
// Below half full anyone may send. Above, a sender may hold at most an even share of the upper
// half, (capacity - capacity / 2) / active, whenever another sender is active: holds messages
// counted in the upper half, or was refused in the last second (so a sender that could not get
// a single message in still takes part). A sender alone may fill the inbox. A sender over its
// share is answered `full`, and its wait_not_full waits for the consumer's next commit (room
// alone would not admit it), while the others get the freed slots: one flood cannot starve the
// polite senders.
//
// Counting: a message admitted at or above half full is counted against its sender (a cell in
// the header found by the hash of the `from` name, layout::sender_cell; the cell's number goes
// into the slot). The producer counts its run in after publishing it; the consumer counts out
// what it delivers just before it commits, drop-oldest what it evicts just before it commits
// the eviction. A process killed between the two steps leaves a cell lower than the truth, so
// a crash can only make a share more generous, never starve anyone. Below half full nothing is
// counted, so the path of an inbox that is not congested touches no cell.
//
// Limits: 32 cells; a sender that finds none free while 32 others are active is not limited.
// Shares are per sender name over the regular capacity, which the high, normal and low lanes
// share; critical messages have their own reserve and are not counted. Names are what senders
// say they are: this is fairness among careless senders, not a defence against a hostile one
// (policy rules are).
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "inbox/impl.hpp"
#include "inbox/pid_clock.hpp"

namespace sluice::inbox::detail {

// Outstanding admissions at or above which admission counts and limits senders.
inline std::uint64_t fair_share_threshold(std::uint32_t capacity) noexcept {
  return capacity / 2;
}

inline std::uint64_t sender_hash(std::string_view name) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h;
}

// relaxed loads and RMWs throughout: the cells are estimates that only decide how much a
// sender may take; no memory is published through them.
inline std::int64_t held(const layout::sender_cell& c) noexcept {
  const std::int64_t p = c.pending.load(std::memory_order_relaxed);
  return p < 0 ? 0 : p;
}

// A refusal this recent makes a sender active without messages: longer than the waits of a
// backing-off sender between its attempts, short enough that a sender that gave up soon stops
// shrinking the others' shares.
inline constexpr std::uint64_t refusal_memory_ns = 1'000'000'000;

inline bool active(const layout::sender_cell& c, std::uint64_t now_ns) noexcept {
  if (held(c) > 0) return true;
  const std::uint64_t refused = c.refused_ns.load(std::memory_order_relaxed);
  return refused != 0 && now_ns - refused < refusal_memory_ns;
}

// The cell of `sender`: its own, else one that is not active (taken over by CAS). -1 when
// every cell is active for another sender.
inline int sender_cell_of(layout::header& h, std::uint64_t sender, std::uint64_t now_ns) noexcept {
  const std::size_t start = sender % layout::sender_cells;
  int spare = -1;
  for (std::size_t i = 0; i < layout::sender_cells; ++i) {
    const std::size_t k = (start + i) % layout::sender_cells;
    auto& c = h.senders[k];
    const std::uint64_t owner = c.sender.load(std::memory_order_relaxed);
    if (owner == sender) return static_cast<int>(k);
    if (spare < 0 && (owner == 0 || !active(c, now_ns))) spare = static_cast<int>(k);
  }
  if (spare < 0) return -1;
  auto& c = h.senders[spare];
  std::uint64_t owner = c.sender.load(std::memory_order_relaxed);
  // Another sender may take the same cell at once: then the two share it, which only makes
  // both stricter until one of them stops being active.
  if (owner != sender) (void)c.sender.compare_exchange_strong(owner, sender, std::memory_order_relaxed);
  return spare;
}

struct fair_decision {
  std::size_t allowed = 0;  // how many of `want` this sender may take
  std::uint8_t tag = 0;     // slot_header::sender_cell for what it takes (0: not counted)
};

// Called with the admission's view of outstanding tickets (before ours).
inline fair_decision fair_share(inbox::impl& m, std::string_view from, std::uint64_t outstanding,
                                std::size_t want) noexcept {
  // relaxed: a process-local switch; no memory is published through it.
  if (!m.share_fairly.load(std::memory_order_relaxed) || outstanding < fair_share_threshold(m.capacity))
    return {want, 0};
  layout::header& h = *m.h;
  const std::uint64_t now = monotonic_ns();
  const int mine = sender_cell_of(h, sender_hash(from), now);
  if (mine < 0) return {want, 0};
  const auto tag = static_cast<std::uint8_t>(mine + 1);
  std::int64_t others = 0;
  for (std::size_t k = 0; k < layout::sender_cells; ++k)
    others += static_cast<int>(k) != mine && active(h.senders[k], now) ? 1 : 0;
  if (others == 0) return {want, tag};
  const std::int64_t upper = m.capacity - static_cast<std::int64_t>(fair_share_threshold(m.capacity));
  const std::int64_t share = std::max<std::int64_t>(1, upper / (others + 1));
  const std::int64_t left = share - held(h.senders[mine]);
  return {left <= 0 ? 0 : std::min<std::size_t>(want, static_cast<std::size_t>(left)), tag};
}

// A sender refused for want of room: active for the others' shares from now on.
inline void note_refusal(layout::header& h, std::uint8_t tag) noexcept {
  if (tag != 0) h.senders[tag - 1].refused_ns.store(monotonic_ns(), std::memory_order_relaxed);
}

inline void count_in(layout::header& h, std::uint8_t tag, std::size_t n) noexcept {
  if (tag != 0 && n != 0)
    h.senders[tag - 1].pending.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
}

// The consumer's side: a message of the uncommitted batch that was counted in (its slot's tag).
inline void count_out(consumer_cursors& c, std::uint8_t tag) noexcept {
  if (tag == 0 || tag > layout::sender_cells) return;  // 0: not counted; more: the slot lies
  ++c.counted_out[tag - 1];
  c.any_counted = true;
}

// Just before the batch is committed: afterwards a crash could leave the cells too high.
inline void apply_counted_out(layout::header& h, consumer_cursors& c) noexcept {
  if (!c.any_counted) return;
  for (std::size_t k = 0; k < layout::sender_cells; ++k) {
    if (c.counted_out[k] != 0) h.senders[k].pending.fetch_sub(c.counted_out[k], std::memory_order_relaxed);
    c.counted_out[k] = 0;
  }
  c.any_counted = false;
}

inline void forget_counted_out(consumer_cursors& c) noexcept {
  if (!c.any_counted) return;
  for (auto& n : c.counted_out) n = 0;
  c.any_counted = false;
}

}  // namespace sluice::inbox::detail
