#include "governance/algorithms.hpp"

#include <algorithm>
#include <limits>

namespace sluice::governance {
namespace {

__extension__ typedef unsigned __int128 u128;

// Times and spans are kept far below overflow: a span longer than this (about 73 years) is
// treated as this.
constexpr std::int64_t max_span = std::numeric_limits<std::int64_t>::max() / 4;

// How much older than the newest clock reading a taker's reading may be (preemption between
// reading CLOCK_MONOTONIC and the CAS) before the word is taken for damage.
constexpr std::int64_t stale_clock_slack = 60'000'000'000;

std::int64_t clamp_span(u128 v) noexcept {
  return v > static_cast<u128>(max_span) ? max_span : static_cast<std::int64_t>(v);
}

// Nanoseconds per unit, rounded up: the limiter grants at most the rate, never a hair more.
std::int64_t unit_ns(const limiter_spec& s) noexcept {
  const auto count = std::max<std::uint64_t>(s.count, 1);
  const auto period = static_cast<u128>(std::max<std::int64_t>(s.period_ns, 1));
  return std::max<std::int64_t>(clamp_span((period + count - 1) / count), 1);
}

std::int64_t span_of(std::uint64_t units, std::int64_t unit) noexcept {
  return clamp_span(static_cast<u128>(units) * static_cast<u128>(unit));
}

std::uint64_t units_in(std::int64_t span, std::int64_t unit) noexcept {
  return span <= 0 ? 0 : static_cast<std::uint64_t>(span / unit);
}

// Relaxed everywhere below (algorithms.hpp): the word is self-contained and every change is
// one CAS on it.

// --- token bucket (GCRA) and leaky bucket: the word is a time -----------------------------

struct bucket_geometry {
  std::int64_t unit;    // ns per unit
  std::int64_t window;  // burst x unit: how far ahead of now the word may run
};

bucket_geometry geometry(const limiter_spec& s) noexcept {
  const std::int64_t unit = unit_ns(s);
  return {unit, span_of(std::max<std::uint64_t>(s.burst, 1), unit)};
}

decision take_bucket(std::atomic<std::uint64_t>& word, const limiter_spec& s, std::int64_t now,
                     std::uint64_t cost, bool pacing) noexcept {
  decision d;
  const auto g = geometry(s);
  d.limit = std::max<std::uint64_t>(s.burst, 1);
  const std::int64_t need = span_of(cost, g.unit);
  if (cost > d.limit) {
    d.never = true;
    d.word = word.load(relaxed);
    return d;
  }
  std::uint64_t seen = word.load(relaxed);
  for (;;) {
    auto tat = static_cast<std::int64_t>(std::min<std::uint64_t>(seen, max_span));
    // Never more than one window ahead of the newest clock a taker used. A caller whose clock
    // reading is older (it was preempted between reading the clock and this CAS) legitimately
    // sees the word ahead of that by as long as it was preempted, so only a word far beyond
    // that (damage, or a value from before a reboot in a persistent SLUICE_DIR) restarts from
    // an idle limiter.
    if (tat > now + g.window + stale_clock_slack) {
      if (word.compare_exchange_weak(seen, static_cast<std::uint64_t>(now), relaxed)) seen = now;
      continue;
    }
    const std::int64_t start = std::max(tat, now);
    const std::int64_t next = start + need;
    // token bucket: allowed when the new arrival time is within a window of now.
    // leaky bucket: allowed when what waits ahead plus this cost fits the queue.
    const std::int64_t allow_at = next - g.window;
    if (allow_at > now) {
      d.retry_after_ns = allow_at - now;
      d.word = seen;
      d.remaining = 0;
      return d;
    }
    if (word.compare_exchange_weak(seen, static_cast<std::uint64_t>(next), relaxed)) {
      d.allowed = true;
      d.word = static_cast<std::uint64_t>(next);
      d.remaining = units_in(now + g.window - next, g.unit);
      if (pacing) d.delay_ns = start - now;
      return d;
    }
  }
}

void give_back_bucket(std::atomic<std::uint64_t>& word, const limiter_spec& s,
                      std::uint64_t cost) noexcept {
  const std::int64_t need = span_of(cost, geometry(s).unit);
  std::uint64_t seen = word.load(relaxed);
  for (;;) {
    const auto tat = static_cast<std::int64_t>(std::min<std::uint64_t>(seen, max_span));
    const std::int64_t back = tat > need ? tat - need : 0;
    if (word.compare_exchange_weak(seen, static_cast<std::uint64_t>(back), relaxed)) return;
  }
}

// --- windows: the word is a window index and counts ---------------------------------------

struct window_layout {
  int index_bits;
  int count_bits;  // per count; sliding keeps two counts
};
constexpr window_layout fixed_layout{24, 40};
constexpr window_layout sliding_layout{20, 22};

std::uint64_t mask_of(int bits) noexcept {
  return (1ull << bits) - 1;
}

// Where the caller stands against the window the word was last written in.
enum class window_relation { same, next, stale_caller, older };

window_relation relate(std::uint64_t now_index, std::uint64_t stored_index, int bits) noexcept {
  const std::uint64_t mask = mask_of(bits);
  const std::uint64_t diff = (now_index - stored_index) & mask;
  if (diff == 0) return window_relation::same;
  if (diff == 1) return window_relation::next;
  // Another process moved the word into a later window after this caller read the clock:
  // count in that window rather than turning the word back.
  if (diff > (mask >> 1)) return window_relation::stale_caller;
  return window_relation::older;
}

struct window_position {
  std::uint64_t index;   // full index: now / period
  std::int64_t elapsed;  // ns since the window began
  std::int64_t left;     // ns until it ends
};

window_position position(const limiter_spec& s, std::int64_t now) noexcept {
  const std::int64_t period = std::max<std::int64_t>(s.period_ns, 1);
  const std::int64_t t = std::max<std::int64_t>(now, 0);
  const auto index = static_cast<std::uint64_t>(t / period);
  const std::int64_t elapsed = t % period;
  return {index, elapsed, period - elapsed};
}

// Fixed window: index << 40 | count.
struct fixed_state {
  std::uint64_t index;  // the (masked) window the count belongs to
  std::uint64_t count;
  std::int64_t left;  // ns until that window ends, as the caller sees it
};

fixed_state fixed_now(std::uint64_t w, const limiter_spec& s, std::int64_t now) noexcept {
  const auto pos = position(s, now);
  const std::uint64_t mask = mask_of(fixed_layout.index_bits);
  const std::uint64_t stored = w >> fixed_layout.count_bits;
  const std::uint64_t count = w & mask_of(fixed_layout.count_bits);
  switch (relate(pos.index & mask, stored, fixed_layout.index_bits)) {
    case window_relation::same:
      return {stored, count, pos.left};
    case window_relation::stale_caller:
      return {stored, count, std::max<std::int64_t>(s.period_ns, 1)};
    case window_relation::next:
    case window_relation::older:
      break;
  }
  return {pos.index & mask, 0, pos.left};
}

decision take_fixed(std::atomic<std::uint64_t>& word, const limiter_spec& s, std::int64_t now,
                    std::uint64_t cost) noexcept {
  decision d;
  d.limit = s.count;
  if (cost > s.count) {
    d.never = true;
    d.word = word.load(relaxed);
    return d;
  }
  std::uint64_t seen = word.load(relaxed);
  for (;;) {
    const fixed_state st = fixed_now(seen, s, now);
    if (st.count > s.count || s.count - st.count < cost) {
      d.retry_after_ns = st.left;
      d.word = seen;
      return d;
    }
    const std::uint64_t next = (st.index << fixed_layout.count_bits) | (st.count + cost);
    if (word.compare_exchange_weak(seen, next, relaxed)) {
      d.allowed = true;
      d.word = next;
      d.remaining = s.count - st.count - cost;
      return d;
    }
  }
}

void give_back_fixed(std::atomic<std::uint64_t>& word, const decision& taken,
                     std::uint64_t cost) noexcept {
  const std::uint64_t charged = taken.word >> fixed_layout.count_bits;
  std::uint64_t seen = word.load(relaxed);
  for (;;) {
    if ((seen >> fixed_layout.count_bits) != charged) return;  // that window is over
    const std::uint64_t count = seen & mask_of(fixed_layout.count_bits);
    const std::uint64_t back =
        (charged << fixed_layout.count_bits) | (count > cost ? count - cost : 0);
    if (word.compare_exchange_weak(seen, back, relaxed)) return;
  }
}

// Sliding window counter: index << 44 | previous << 22 | current.
struct sliding_state {
  std::uint64_t index;
  std::uint64_t prev;
  std::uint64_t cur;
  std::int64_t elapsed;  // into the counted window, as the caller sees it
  std::int64_t left;
};

sliding_state sliding_now(std::uint64_t w, const limiter_spec& s, std::int64_t now) noexcept {
  const auto pos = position(s, now);
  const int cb = sliding_layout.count_bits;
  const std::uint64_t mask = mask_of(sliding_layout.index_bits);
  const std::uint64_t stored = w >> (2 * cb);
  const std::uint64_t prev = (w >> cb) & mask_of(cb);
  const std::uint64_t cur = w & mask_of(cb);
  const std::uint64_t here = pos.index & mask;
  switch (relate(here, stored, sliding_layout.index_bits)) {
    case window_relation::same:
      return {stored, prev, cur, pos.elapsed, pos.left};
    case window_relation::next:
      return {here, cur, 0, pos.elapsed, pos.left};
    case window_relation::stale_caller:
      // Count as if at the start of the stored window: the strictest reading.
      return {stored, prev, cur, 0, std::max<std::int64_t>(s.period_ns, 1)};
    case window_relation::older:
      break;
  }
  return {here, 0, 0, pos.elapsed, pos.left};
}

// prev x (P - elapsed) + cur x P, the estimate scaled by P.
u128 weighted(const sliding_state& st, std::int64_t period) noexcept {
  const auto p = static_cast<u128>(period);
  const auto remaining = static_cast<u128>(std::max<std::int64_t>(period - st.elapsed, 0));
  return static_cast<u128>(st.prev) * remaining + static_cast<u128>(st.cur) * p;
}

// How long until a take of `cost` fits, from a refused state.
std::int64_t sliding_retry(const sliding_state& st, const limiter_spec& s,
                           std::uint64_t cost) noexcept {
  const std::int64_t period = std::max<std::int64_t>(s.period_ns, 1);
  const auto p = static_cast<u128>(period);
  // Within this window, the previous window's weight decays: enough once
  // prev x (P - t) <= (L - cur - cost) x P.
  if (st.cur <= s.count && s.count - st.cur >= cost && st.prev > 0) {
    const u128 room = static_cast<u128>(s.count - st.cur - cost) * p;
    const u128 max_remaining = room / st.prev;  // P - t may be at most this
    if (max_remaining < p) {
      const auto t = static_cast<std::int64_t>(p - max_remaining);
      if (t < period) return std::max<std::int64_t>(t - st.elapsed, 1);
    }
  }
  // In the next window this window's count becomes the previous one:
  // enough once cur x (P - t) <= (L - cost) x P.
  std::int64_t t = 0;
  if (st.cur > 0) {
    const u128 room = static_cast<u128>(s.count - cost) * p;
    const u128 max_remaining = room / st.cur;
    if (max_remaining < p) t = static_cast<std::int64_t>(p - max_remaining);
  }
  return st.left + t;
}

decision take_sliding(std::atomic<std::uint64_t>& word, const limiter_spec& s, std::int64_t now,
                      std::uint64_t cost) noexcept {
  decision d;
  d.limit = s.count;
  if (cost > s.count) {
    d.never = true;
    d.word = word.load(relaxed);
    return d;
  }
  const std::int64_t period = std::max<std::int64_t>(s.period_ns, 1);
  const u128 ceiling = static_cast<u128>(s.count) * static_cast<u128>(period);
  const int cb = sliding_layout.count_bits;
  std::uint64_t seen = word.load(relaxed);
  for (;;) {
    sliding_state st = sliding_now(seen, s, now);
    const u128 used = weighted(st, period);
    const u128 want = static_cast<u128>(cost) * static_cast<u128>(period);
    if (used > ceiling || ceiling - used < want || st.cur + cost > max_sliding_count) {
      d.retry_after_ns = sliding_retry(st, s, cost);
      d.word = seen;
      return d;
    }
    st.cur += cost;
    const std::uint64_t next = (st.index << (2 * cb)) | (st.prev << cb) | st.cur;
    if (word.compare_exchange_weak(seen, next, relaxed)) {
      d.allowed = true;
      d.word = next;
      d.remaining = static_cast<std::uint64_t>((ceiling - used - want) / static_cast<u128>(period));
      return d;
    }
  }
}

void give_back_sliding(std::atomic<std::uint64_t>& word, const decision& taken,
                       std::uint64_t cost) noexcept {
  const int cb = sliding_layout.count_bits;
  const std::uint64_t mask = mask_of(sliding_layout.index_bits);
  const std::uint64_t charged = taken.word >> (2 * cb);
  std::uint64_t seen = word.load(relaxed);
  for (;;) {
    const std::uint64_t stored = seen >> (2 * cb);
    std::uint64_t prev = (seen >> cb) & mask_of(cb);
    std::uint64_t cur = seen & mask_of(cb);
    if (stored == charged) {
      cur = cur > cost ? cur - cost : 0;
    } else if (stored == ((charged + 1) & mask)) {
      prev = prev > cost ? prev - cost : 0;
    } else {
      return;  // the charged window no longer counts
    }
    const std::uint64_t back = (stored << (2 * cb)) | (prev << cb) | cur;
    if (word.compare_exchange_weak(seen, back, relaxed)) return;
  }
}

}  // namespace

const char* to_string(algorithm a) noexcept {
  switch (a) {
    case algorithm::token_bucket:
      return "token_bucket";
    case algorithm::sliding_window:
      return "sliding_window";
    case algorithm::fixed_window:
      return "fixed_window";
    case algorithm::leaky_bucket:
      return "leaky_bucket";
  }
  return "unknown";
}

std::optional<algorithm> parse_algorithm(std::string_view text) noexcept {
  for (int i = 0; i < algorithm_count; ++i) {
    const auto a = static_cast<algorithm>(i);
    if (text == to_string(a)) return a;
  }
  return std::nullopt;
}

std::optional<std::string_view> validate(const limiter_spec& s) noexcept {
  if (s.count == 0) return "the rate's count must be at least 1";
  if (s.period_ns < 1'000'000) return "the rate's period must be at least 1 ms";
  if (s.burst == 0) return "burst must be at least 1";
  if (s.algo == algorithm::sliding_window && s.count > max_sliding_count)
    return "a sliding_window counts at most 4194303 units per window";
  if (s.algo == algorithm::fixed_window && s.count > max_fixed_count)
    return "a fixed_window counts at most 1099511627775 units per window";
  if (static_cast<int>(s.algo) >= algorithm_count) return "unknown algorithm";
  return std::nullopt;
}

decision take(std::atomic<std::uint64_t>& word, const limiter_spec& spec, std::int64_t now_ns,
              std::uint64_t cost) noexcept {
  switch (spec.algo) {
    case algorithm::token_bucket:
      return take_bucket(word, spec, now_ns, cost, false);
    case algorithm::leaky_bucket:
      return take_bucket(word, spec, now_ns, cost, true);
    case algorithm::fixed_window:
      return take_fixed(word, spec, now_ns, cost);
    case algorithm::sliding_window:
      return take_sliding(word, spec, now_ns, cost);
  }
  decision refused;
  refused.never = true;
  return refused;
}

void give_back(std::atomic<std::uint64_t>& word, const limiter_spec& spec, const decision& taken,
               std::uint64_t cost) noexcept {
  if (!taken.allowed || cost == 0) return;
  switch (spec.algo) {
    case algorithm::token_bucket:
    case algorithm::leaky_bucket:
      return give_back_bucket(word, spec, cost);
    case algorithm::fixed_window:
      return give_back_fixed(word, taken, cost);
    case algorithm::sliding_window:
      return give_back_sliding(word, taken, cost);
  }
}

limiter_view inspect(std::uint64_t w, const limiter_spec& s, std::int64_t now) noexcept {
  limiter_view v;
  switch (s.algo) {
    case algorithm::token_bucket:
    case algorithm::leaky_bucket: {
      const auto g = geometry(s);
      v.limit = std::max<std::uint64_t>(s.burst, 1);
      auto tat = static_cast<std::int64_t>(std::min<std::uint64_t>(w, max_span));
      if (tat > now + g.window + stale_clock_slack) tat = now;
      const std::int64_t ahead = std::max<std::int64_t>(tat - now, 0);
      v.available = std::min(v.limit, units_in(g.window - ahead, g.unit));
      v.next_free_ns =
          v.available >= v.limit
              ? 0
              : std::max<std::int64_t>(
                    ahead - g.window + g.unit * static_cast<std::int64_t>(v.available + 1), 0);
      return v;
    }
    case algorithm::fixed_window: {
      const auto st = fixed_now(w, s, now);
      v.limit = s.count;
      v.window_count = st.count;
      v.available = st.count >= s.count ? 0 : s.count - st.count;
      return v;
    }
    case algorithm::sliding_window: {
      const auto st = sliding_now(w, s, now);
      const std::int64_t period = std::max<std::int64_t>(s.period_ns, 1);
      const u128 ceiling = static_cast<u128>(s.count) * static_cast<u128>(period);
      const u128 used = weighted(st, period);
      v.limit = s.count;
      v.window_count = st.cur;
      v.available = used >= ceiling
                        ? 0
                        : static_cast<std::uint64_t>((ceiling - used) / static_cast<u128>(period));
      return v;
    }
  }
  return v;
}

void give_back(const charge& c) noexcept {
  decision d;
  d.allowed = true;
  d.word = c.written;
  give_back(*c.word, *c.spec, d, c.cost);
}

}  // namespace sluice::governance
