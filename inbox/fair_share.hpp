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
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inbox/impl.hpp"

namespace sluice::inbox::detail {

// Outstanding admissions at or above which admission counts and limits senders.
inline std::uint64_t fair_share_threshold(std::uint32_t capacity) noexcept {
  return capacity / 2;
}

std::uint64_t sender_hash(std::string_view name) noexcept;

struct fair_decision {
  std::size_t allowed = 0;  // how many of `want` this sender may take
  std::uint8_t tag = 0;     // slot_header::sender_cell for what it takes (0: not counted)
};

// At or above half full (fair_share.cpp).
fair_decision fair_share_congested(inbox::impl& m, std::string_view from,
                                   std::size_t want) noexcept;

// Called by admission with its view of outstanding tickets (before ours): below half full
// this is one comparison.
inline fair_decision fair_share(inbox::impl& m, std::string_view from, std::uint64_t outstanding,
                                std::size_t want) noexcept {
  // relaxed: a process-local switch; no memory is published through it.
  if (outstanding < fair_share_threshold(m.capacity) ||
      !m.share_fairly.load(std::memory_order_relaxed))
    return {want, 0};
  return fair_share_congested(m, from, want);
}

// After the run is published. A sender that held nothing before is a new active sender.
void count_in_cell(layout::header& h, std::uint8_t tag, std::size_t n) noexcept;
inline void count_in(layout::header& h, std::uint8_t tag, std::size_t n) noexcept {
  if (tag != 0 && n != 0) count_in_cell(h, tag, n);
}

// A sender refused for want of room: active for the others' shares from now on.
void note_refusal(layout::header& h, std::uint8_t tag) noexcept;

// The consumer's side: a message it read that was counted in (its slot's tag).
inline void count_out(consumer_cursors& c, std::uint8_t tag) noexcept {
  if (tag == 0 || tag > layout::sender_cells) return;  // 0: not counted; more: the slot lies
  ++c.read.counted_out[tag - 1];
  c.any_counted = true;
}

// Just before the messages read up to `upto` are committed: afterwards a crash could leave
// the cells too high.
inline void apply_counted_out(layout::header& h, const consumer_cursors& c,
                              const read_tally& upto) noexcept {
  if (!c.any_counted) return;
  for (std::size_t k = 0; k < layout::sender_cells; ++k) {
    const std::uint64_t n = upto.counted_out[k] - c.committed_tally.counted_out[k];
    if (n != 0)
      h.senders[k].pending.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
  }
}

}  // namespace sluice::inbox::detail
