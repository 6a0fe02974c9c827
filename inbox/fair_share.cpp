#include "inbox/fair_share.hpp"

#include <algorithm>

#include "inbox/pid_clock.hpp"

namespace sluice::inbox::detail {

namespace {

// A refusal this recent makes a sender active without messages: longer than the waits of a
// backing-off sender between its attempts, short enough that a sender that gave up soon stops
// shrinking the others' shares.
constexpr std::uint64_t refusal_memory_ns = 1'000'000'000;

// relaxed loads and RMWs throughout: the cells are estimates that only decide how much a
// sender may take; no memory is published through them.
std::int64_t held(const layout::sender_cell& c) noexcept {
  const std::int64_t p = c.pending.load(std::memory_order_relaxed);
  return p < 0 ? 0 : p;
}

bool active(const layout::sender_cell& c, std::uint64_t now_ns) noexcept {
  if (held(c) > 0) return true;
  const std::uint64_t refused = c.refused_ns.load(std::memory_order_relaxed);
  return refused != 0 && now_ns - refused < refusal_memory_ns;
}

void sender_joined(layout::header& h) noexcept {
  h.sender_joins.value.fetch_add(1, std::memory_order_relaxed);
}

// The cell of `sender`: its own, else one that is not active (taken over by CAS). -1 when
// every cell is active for another sender.
int sender_cell_of(layout::header& h, std::uint64_t sender, std::uint64_t now_ns) noexcept {
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
  if (owner != sender)
    (void)c.sender.compare_exchange_strong(owner, sender, std::memory_order_relaxed);
  return spare;
}

std::uint64_t alone_key_of(std::uint64_t sender, std::uint64_t joins) noexcept {
  return sender ^ (joins * 0x9e3779b97f4a7c15ull);
}

}  // namespace

std::uint64_t sender_hash(std::string_view name) noexcept {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h;
}

fair_decision fair_share_congested(inbox::impl& m, std::string_view from,
                                   std::size_t want) noexcept {
  layout::header& h = *m.h;
  const std::uint64_t me = sender_hash(from);
  const std::uint64_t joins = h.sender_joins.value.load(std::memory_order_relaxed);
  const std::size_t home = me % layout::sender_cells;
  // A sender alone, as this process last found it, with nobody joined since: no scan.
  if (h.senders[home].sender.load(std::memory_order_relaxed) == me &&
      m.alone_key.load(std::memory_order_relaxed) == alone_key_of(me, joins))
    return {want, static_cast<std::uint8_t>(home + 1)};
  const std::uint64_t now = monotonic_ns();
  const int mine = sender_cell_of(h, me, now);
  if (mine < 0) return {want, 0};
  const auto tag = static_cast<std::uint8_t>(mine + 1);
  std::int64_t others = 0;
  for (std::size_t k = 0; k < layout::sender_cells; ++k)
    others += static_cast<int>(k) != mine && active(h.senders[k], now) ? 1 : 0;
  if (others == 0) {
    if (static_cast<std::size_t>(mine) == home)
      m.alone_key.store(alone_key_of(me, joins), std::memory_order_relaxed);
    return {want, tag};
  }
  const std::int64_t upper =
      m.capacity - static_cast<std::int64_t>(fair_share_threshold(m.capacity));
  const std::int64_t share = std::max<std::int64_t>(1, upper / (others + 1));
  const std::int64_t left = share - held(h.senders[mine]);
  return {left <= 0 ? 0 : std::min<std::size_t>(want, static_cast<std::size_t>(left)), tag};
}

void count_in_cell(layout::header& h, std::uint8_t tag, std::size_t n) noexcept {
  const std::int64_t before =
      h.senders[tag - 1].pending.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
  if (before <= 0) sender_joined(h);
}

void note_refusal(layout::header& h, std::uint8_t tag) noexcept {
  if (tag == 0) return;
  h.senders[tag - 1].refused_ns.store(monotonic_ns(), std::memory_order_relaxed);
  sender_joined(h);
}

}  // namespace sluice::inbox::detail
