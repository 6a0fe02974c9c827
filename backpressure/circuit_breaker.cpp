#include "backpressure/circuit_breaker.hpp"

#include <algorithm>

#include "backpressure/time_source.hpp"

namespace sluice::backpressure {
namespace {

constexpr unsigned doublings_shift = 2;
constexpr std::uint64_t doublings_mask = 0xF;
constexpr std::uint32_t max_doublings = 15;
constexpr unsigned generation_shift = 6;
constexpr std::uint64_t generation_mask = (1ULL << 18) - 1;
constexpr unsigned until_shift = 24;
constexpr std::uint64_t until_max_ms = (1ULL << 40) - 1;  // 34 years of uptime

std::uint32_t doublings_of(std::uint64_t w) noexcept {
  return static_cast<std::uint32_t>((w >> doublings_shift) & doublings_mask);
}
std::uint32_t generation_of(std::uint64_t w) noexcept {
  return static_cast<std::uint32_t>((w >> generation_shift) & generation_mask);
}
std::int64_t until_ns_of(std::uint64_t w) noexcept {
  return static_cast<std::int64_t>(w >> until_shift) * ns_per_ms;
}

// The next word after `from`: new state, doublings and deadline, generation + 1. The
// deadline is rounded up to the next ms so that "now < until" never ends a wait early.
std::uint64_t next_word(std::uint64_t from, breaker_state to, std::uint32_t doublings,
                        std::int64_t until_ns) noexcept {
  const std::uint64_t gen = (generation_of(from) + 1) & generation_mask;
  std::uint64_t until_ms = 0;
  if (until_ns > 0) {
    until_ms = std::min<std::uint64_t>(
        static_cast<std::uint64_t>((until_ns + ns_per_ms - 1) / ns_per_ms), until_max_ms);
  }
  return static_cast<std::uint64_t>(to) |
         (static_cast<std::uint64_t>(std::min(doublings, max_doublings)) << doublings_shift) |
         (gen << generation_shift) | (until_ms << until_shift);
}

// min(max_cooldown, cooldown * 2^doublings); doublings <= 15 and the cap stop overflow.
std::int64_t cooldown_ms(const breaker_config& cfg, std::uint32_t doublings) noexcept {
  std::int64_t ms = std::max<std::int64_t>(cfg.cooldown.count(), 1);
  const std::int64_t cap = std::max<std::int64_t>(cfg.max_cooldown.count(), ms);
  for (std::uint32_t i = 0; i < doublings && ms < cap; ++i) ms *= 2;
  return std::min(ms, cap);
}

}  // namespace

const char* to_string(breaker_state s) noexcept {
  switch (s) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
  }
  return "unknown";
}

bool circuit_breaker::transition(std::uint64_t expected, std::uint64_t desired) noexcept {
  // seq_cst: transitions are rare, and one total order over them keeps reasoning simple.
  if (!cell_.state.compare_exchange_strong(expected, desired)) return false;
  // Relaxed: display copies for readers that do not decode the word (stats, monitors).
  cell_.open_until_ns.store(until_ns_of(desired), std::memory_order_relaxed);
  cell_.cooldown_ms.store(static_cast<std::uint32_t>(cooldown_ms(cfg_, doublings_of(desired))),
                          std::memory_order_relaxed);
  return true;
}

breaker_ticket circuit_breaker::admit_slow(std::uint64_t word, std::int64_t now_ns,
                                           std::chrono::nanoseconds probe_lease) noexcept {
  for (;;) {
    const breaker_state st = state_of(word);
    if (st == breaker_state::closed) return {admission::pass, word, 0};
    // Anything else, including a garbage state value in a damaged header, ends with a
    // deadline; past it, one sender probes and the word becomes valid again.
    const std::int64_t until = until_ns_of(word);
    if (now_ns < until) {
      // Relaxed: a statistic; nothing is ordered by it.
      cell_.rejected_open.fetch_add(1, std::memory_order_relaxed);
      // While a probe is out, its lease is only an upper bound on the verdict: suggest
      // asking again after one cooldown at most.
      const std::int64_t retry_at =
          st == breaker_state::open
              ? until
              : std::min(until,
                         now_ns + static_cast<std::int64_t>(cfg_.cooldown.count()) * ns_per_ms);
      return {admission::reject, word, retry_at};
    }
    // Cooldown over (open), or the probe outlived its lease (its process died or hung):
    // the one sender whose CAS wins becomes the probe.
    const std::uint64_t desired =
        next_word(word, breaker_state::half_open, doublings_of(word), now_ns + probe_lease.count());
    if (transition(word, desired)) {
      cell_.probes.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      return {admission::probe, desired, 0};
    }
    word = cell_.state.load();
  }
}

void circuit_breaker::open(std::uint64_t expected, std::int64_t now_ns,
                           std::uint32_t doublings) noexcept {
  const std::int64_t until = now_ns + cooldown_ms(cfg_, doublings) * ns_per_ms;
  if (!transition(expected, next_word(expected, breaker_state::open, doublings, until))) return;
  // Relaxed: the failure streak is a heuristic; a racing increment only shifts a later trip
  // by one send.
  cell_.consecutive_failures.store(0, std::memory_order_relaxed);
  cell_.trips.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
}

void circuit_breaker::on_success(const breaker_ticket& t) noexcept {
  // Load first so that the common case (no streak) does not write the shared cache line.
  // Relaxed: the streak is a heuristic (see open()).
  if (cell_.consecutive_failures.load(std::memory_order_relaxed) != 0) {
    cell_.consecutive_failures.store(0, std::memory_order_relaxed);
  }
  if (t.verdict == admission::probe) {
    // Fails only if the probe overran its lease and another sender took over: that probe
    // decides instead.
    transition(t.word, next_word(t.word, breaker_state::closed, 0, 0));
  }
}

void circuit_breaker::on_failure(const breaker_ticket& t, std::int64_t now_ns) noexcept {
  switch (t.verdict) {
    case admission::reject:
      return;
    case admission::probe:
      open(t.word, now_ns, doublings_of(t.word) + 1);
      return;
    case admission::pass:
      break;
  }
  // A send admitted before the breaker moved on (tripped, probed, closed again) says
  // nothing about the current closed period.
  const std::uint64_t current = cell_.state.load();
  if (current != t.word) return;
  // Relaxed: see open().
  const std::uint32_t streak =
      cell_.consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (streak >= cfg_.failure_threshold) open(current, now_ns, 0);
}

void circuit_breaker::on_abandon(const breaker_ticket& t, std::int64_t now_ns) noexcept {
  if (t.verdict != admission::probe) return;
  transition(t.word, next_word(t.word, breaker_state::open, doublings_of(t.word), now_ns));
}

breaker_view inspect(const inbox::breaker_cell& cell, const breaker_config& cfg) noexcept {
  // Relaxed throughout: a snapshot for display; fields may be from slightly different moments.
  const std::uint64_t w = cell.state.load(std::memory_order_relaxed);
  breaker_view v;
  v.state = circuit_breaker::state_of(w);
  v.generation = generation_of(w);
  v.until_ns = until_ns_of(w);
  v.consecutive_failures = cell.consecutive_failures.load(std::memory_order_relaxed);
  v.cooldown_ms = static_cast<std::uint32_t>(cooldown_ms(cfg, doublings_of(w)));
  v.trips = cell.trips.load(std::memory_order_relaxed);
  v.rejected_open = cell.rejected_open.load(std::memory_order_relaxed);
  v.probes = cell.probes.load(std::memory_order_relaxed);
  return v;
}

}  // namespace sluice::backpressure
