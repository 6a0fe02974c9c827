#include "governance/acquire.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <ctime>

#include "governance/glob.hpp"
#include "governance/holder.hpp"
#include "governance/send_decision.hpp"
#include "inbox/futex.hpp"

namespace sluice::governance {
namespace {

constexpr int used_bits = 44;  // layout::limit_state::quota_word
constexpr std::uint64_t used_mask = (1ull << used_bits) - 1;
constexpr std::uint64_t period_mask = (1ull << 20) - 1;
// A wait for a lease: how soon to look again (a release or a holder's death frees one).
constexpr std::int64_t lease_poll_ns = 5'000'000;

std::uint64_t period_of(std::uint64_t word) noexcept {
  return word >> used_bits;
}

}  // namespace

std::uint64_t period_index(quota_period p, std::int64_t real_ns) noexcept {
  const std::int64_t secs = std::max<std::int64_t>(real_ns / 1'000'000'000, 0);
  switch (p) {
    case quota_period::hour:
      return static_cast<std::uint64_t>(secs / 3600);
    case quota_period::day:
      return static_cast<std::uint64_t>(secs / 86400);
    case quota_period::month: {
      const std::time_t t = secs;
      std::tm tm{};
      ::gmtime_r(&t, &tm);
      return static_cast<std::uint64_t>((tm.tm_year - 70) * 12 + tm.tm_mon);
    }
  }
  return 0;
}

std::pair<std::int64_t, std::int64_t> period_bounds(quota_period p, std::int64_t real_ns) noexcept {
  constexpr std::int64_t s = 1'000'000'000;
  const std::int64_t secs = std::max<std::int64_t>(real_ns / s, 0);
  switch (p) {
    case quota_period::hour:
      return {secs / 3600 * 3600 * s, (secs / 3600 + 1) * 3600 * s};
    case quota_period::day:
      return {secs / 86400 * 86400 * s, (secs / 86400 + 1) * 86400 * s};
    case quota_period::month: {
      const std::time_t t = secs;
      std::tm tm{};
      ::gmtime_r(&t, &tm);
      std::tm start{};
      start.tm_year = tm.tm_year;
      start.tm_mon = tm.tm_mon;
      start.tm_mday = 1;
      std::tm end = start;
      end.tm_mon += 1;
      return {static_cast<std::int64_t>(::timegm(&start)) * s,
              static_cast<std::int64_t>(::timegm(&end)) * s};
    }
  }
  return {0, 0};
}

std::uint64_t used_in_period(std::uint64_t quota_word, quota_period p,
                             std::int64_t real_ns) noexcept {
  return period_of(quota_word) == (period_index(p, real_ns) & period_mask)
             ? (quota_word & used_mask)
             : 0;
}

std::uint64_t quota_used(const layout::limit_state& st, quota_period p,
                         std::int64_t real_ns) noexcept {
  return used_in_period(st.quota_word.load(relaxed), p, real_ns);
}

void record_cost(layout::file& state, std::string_view agent, std::string_view limit,
                 std::uint64_t cost, std::uint64_t duration_ns, std::int64_t real_ns,
                 std::uint64_t calls) noexcept {
  const std::string joined = std::string(agent) + '\n' + std::string(limit);
  const std::uint64_t key = hash_name(joined);
  const auto start = static_cast<std::uint32_t>(key % layout::ledger_count);
  for (std::uint32_t n = 0; n < layout::ledger_count; ++n) {
    auto& e = state.ledger[(start + n) % layout::ledger_count];
    std::uint64_t seen = e.key.load(std::memory_order_acquire);
    if (seen == 0) {
      // Names first, then the key: a reader that finds the key finds the names.
      std::uint64_t zero = 0;
      if (!e.key.compare_exchange_strong(zero, key ^ 1, std::memory_order_acq_rel)) {
        seen = zero;
      } else {
        store_name(e.agent, agent);
        store_name(e.limit, limit);
        e.key.store(key, std::memory_order_release);
        seen = key;
      }
    }
    if (seen != key) continue;
    e.count.fetch_add(calls, relaxed);
    e.cost.fetch_add(cost, relaxed);
    e.duration_ns.fetch_add(duration_ns, relaxed);
    const std::pair<std::atomic<std::uint64_t>*, quota_period> periods[] = {
        {&e.hour, quota_period::hour},
        {&e.day, quota_period::day},
        {&e.month, quota_period::month}};
    for (const auto& [word, p] : periods) {
      const std::uint64_t idx = period_index(p, real_ns) & period_mask;
      std::uint64_t w = word->load(relaxed);
      for (;;) {
        const std::uint64_t used = period_of(w) == idx ? (w & used_mask) : 0;
        const std::uint64_t next = (idx << used_bits) | std::min(used + cost, used_mask);
        if (word->compare_exchange_weak(w, next, relaxed)) break;
      }
    }
    return;
  }
}

namespace {

void ring(layout::limit_state& st) noexcept {
  st.bell.fetch_add(1, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (st.waiters.load(std::memory_order_relaxed) != 0) inbox::detail::futex_wake_all(st.bell);
}

}  // namespace

void wait_for_lease(layout::file& state, const compiled_policy& policy, std::string_view key,
                    std::uint32_t seen, std::int64_t timeout_ns) noexcept {
  const compiled_limit* limit = policy.limit_named(key);
  if (limit == nullptr || timeout_ns <= 0) return;
  auto& st = state.limits[limit->state];
  st.waiters.fetch_add(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // A holder that dies rings nothing: the timeout bounds the wait so the next try reclaims it.
  if (st.bell.load(std::memory_order_acquire) == seen)
    inbox::detail::futex_wait(
        st.bell, seen, std::chrono::nanoseconds(std::min<std::int64_t>(timeout_ns, 100'000'000)));
  st.waiters.fetch_sub(1, std::memory_order_relaxed);
}

std::uint32_t reclaim_dead(layout::file& state, const compiled_limit& limit) noexcept {
  auto& st = state.limits[limit.state];
  std::uint32_t freed = 0;
  for (std::uint32_t i = 0; i < std::min(limit.concurrency, layout::lease_slot_count); ++i) {
    std::uint64_t h = st.leases[i].holder.load(std::memory_order_acquire);
    if (h != 0 && !holder_alive(h) &&
        st.leases[i].holder.compare_exchange_strong(h, 0, std::memory_order_acq_rel)) {
      ++freed;
      st.reclaimed.fetch_add(1, relaxed);
      ring(st);
    }
  }
  return freed;
}

acquire_result try_acquire(layout::file& state, const compiled_policy& policy,
                           const acquire_request& q, std::int64_t now_ns,
                           std::int64_t real_ns) noexcept {
  acquire_result res;
  const compiled_limit* limit = policy.limit_named(q.key);
  bool any_rule = false;
  std::array<charge, max_rules + 2> takes;
  std::size_t ntakes = 0;
  auto give_all_back = [&] {
    for (std::size_t i = 0; i < ntakes; ++i) give_back(takes[i]);
  };
  auto note = [&](const decision& d) {
    if (res.limit == 0 || d.remaining < res.remaining) {
      res.limit = d.limit;
      res.remaining = d.remaining;
    }
  };
  layout::limit_state* st = limit ? &state.limits[limit->state] : nullptr;
  auto refuse = [&](acquire_status s, std::string why, std::int64_t retry = 0) {
    give_all_back();
    res.status = s;
    res.reason = std::move(why);
    res.retry_after_ns = retry;
    res.lease.clear();
    if (st != nullptr) st->last_denial_ns.store(real_ns, relaxed);
    return res;
  };

  for (const compiled_rule& r : policy.rules) {
    if (r.key.empty() || !glob_match(r.key, q.key) || !glob_match(r.from, q.agent)) continue;
    any_rule = true;
    auto& rs = state.rules[r.state];
    rs.matched.fetch_add(1, relaxed);
    if (r.act == action::deny) {
      rs.denied.fetch_add(1, relaxed);
      return refuse(acquire_status::refused, "rule " + r.name + " denies it");
    }
    if (!r.limit) continue;
    auto& word = rule_word(state, r, q.agent, q.key);
    const decision d = take(word, *r.limit, now_ns, 1);
    if (d.allowed) {
      takes[ntakes++] = {&word, &*r.limit, d.word, 1};
      note(d);
      continue;
    }
    if (r.act == action::log) {
      rs.logged.fetch_add(1, relaxed);
      continue;
    }
    rs.denied.fetch_add(1, relaxed);
    return refuse(acquire_status::wait, "rule " + r.name + " is at its rate " + r.rate_text,
                  std::max<std::int64_t>(d.retry_after_ns, 1));
  }
  if (limit == nullptr) {
    if (!any_rule)
      return refuse(acquire_status::unknown, "no limit named " + q.key + " in the policy in force");
    res.status = acquire_status::granted;
    return res;
  }
  auto step = [&](const std::optional<limiter_spec>& spec, std::atomic<std::uint64_t>& word,
                  std::uint64_t cost, const char* what, const std::string& text) -> bool {
    if (!spec) return true;
    const decision d = take(word, *spec, now_ns, cost);
    if (d.allowed) {
      takes[ntakes++] = {&word, &*spec, d.word, cost};
      res.delay_ns = std::max(res.delay_ns, d.delay_ns);
      note(d);
      return true;
    }
    if (d.never) {
      refuse(acquire_status::refused, std::string("a cost of ") + std::to_string(cost) +
                                          " is more than " + what + " " + text +
                                          " ever grants at once");
    } else {
      refuse(acquire_status::wait, std::string(what) + " " + text + " has no room",
             std::max<std::int64_t>(d.retry_after_ns, 1));
    }
    st->refused_rate.fetch_add(1, relaxed);
    return false;
  };
  if (!step(limit->rate, st->rate_word, 1, "the rate", limit->rate_text)) return res;
  if (!step(limit->cost_rate, st->cost_word, q.cost, "the cost rate", limit->cost_rate_text))
    return res;

  // Quota: CAS-add in the current calendar period.
  std::uint64_t quota_prev = 0;
  bool quota_taken = false;
  if (limit->quota) {
    const std::uint64_t idx = period_index(limit->quota->period, real_ns) & period_mask;
    std::uint64_t w = st->quota_word.load(relaxed);
    for (;;) {
      const std::uint64_t used = period_of(w) == idx ? (w & used_mask) : 0;
      if (used + q.cost > limit->quota->amount) {
        if (limit->quota->hard) {
          st->refused_quota.fetch_add(1, relaxed);
          return refuse(acquire_status::refused,
                        "a cost of " + std::to_string(q.cost) + " does not fit the " +
                            std::string(to_string(limit->quota->period)) + " quota " +
                            limit->quota->text + " (" + std::to_string(used) + " used)");
        }
        res.soft_quota_exceeded = true;
      }
      const std::uint64_t next = (idx << used_bits) | std::min(used + q.cost, used_mask);
      if (st->quota_word.compare_exchange_weak(w, next, relaxed)) {
        quota_prev = idx;
        quota_taken = true;
        std::uint64_t peak = st->peak.load(relaxed);
        while ((next & used_mask) > peak &&
               !st->peak.compare_exchange_weak(peak, next & used_mask, relaxed)) {
        }
        break;
      }
    }
  }
  auto give_quota_back = [&] {
    if (!quota_taken) return;
    std::uint64_t w = st->quota_word.load(relaxed);
    while (period_of(w) == quota_prev) {
      const std::uint64_t used = w & used_mask;
      const std::uint64_t next = (quota_prev << used_bits) | (used > q.cost ? used - q.cost : 0);
      if (st->quota_word.compare_exchange_weak(w, next, relaxed)) break;
    }
  };

  if (limit->concurrency > 0) {
    res.lease_bell = st->bell.load(std::memory_order_acquire);
    const std::uint32_t slots = std::min(limit->concurrency, layout::lease_slot_count);
    int chosen = -1;
    for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
      for (std::uint32_t i = 0; i < slots; ++i) {
        std::uint64_t zero = 0;
        if (st->leases[i].holder.compare_exchange_strong(zero, q.holder,
                                                         std::memory_order_acq_rel)) {
          chosen = static_cast<int>(i);
          break;
        }
      }
      if (chosen < 0 && pass == 0 && reclaim_dead(state, *limit) == 0) break;
    }
    if (chosen < 0) {
      give_quota_back();
      st->refused_concurrency.fetch_add(1, relaxed);
      res.lease_wait = true;
      return refuse(acquire_status::wait,
                    "all " + std::to_string(limit->concurrency) + " leases are held",
                    lease_poll_ns);
    }
    st->leases[chosen].since_ns.store(real_ns, relaxed);
    res.lease = limit->name + "." + std::to_string(chosen) + "." + std::to_string(q.holder);
    std::uint32_t held = 0;
    for (std::uint32_t i = 0; i < slots; ++i) held += st->leases[i].holder.load(relaxed) != 0;
    if (res.limit == 0 || slots - held < res.remaining) {
      res.limit = slots;
      res.remaining = slots - held;
    }
  }
  if (limit->quota && res.limit == 0) {
    res.limit = limit->quota->amount;
    res.remaining = limit->quota->amount -
                    std::min(limit->quota->amount, quota_used(*st, limit->quota->period, real_ns));
  }
  st->granted.fetch_add(1, relaxed);
  st->cost_total.fetch_add(q.cost, relaxed);
  res.status = acquire_status::granted;
  return res;
}

bool release_lease(layout::file& state, const compiled_policy& policy,
                   std::string_view lease) noexcept {
  // "LIMIT.SLOT.HOLDER"; parsed without allocating (a release is on the hot path of `run`).
  const auto dot2 = lease.rfind('.');
  if (dot2 == std::string_view::npos || dot2 == 0) return false;
  const auto dot1 = lease.rfind('.', dot2 - 1);
  if (dot1 == std::string_view::npos) return false;
  const compiled_limit* limit = policy.limit_named(lease.substr(0, dot1));
  if (limit == nullptr) return false;
  const std::string_view slot_text = lease.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view holder_text = lease.substr(dot2 + 1);
  std::uint32_t slot = 0;
  std::uint64_t holder = 0;
  const auto a = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  const auto b =
      std::from_chars(holder_text.data(), holder_text.data() + holder_text.size(), holder);
  if (slot_text.empty() || holder_text.empty() || a.ec != std::errc() || b.ec != std::errc() ||
      a.ptr != slot_text.data() + slot_text.size() ||
      b.ptr != holder_text.data() + holder_text.size())
    return false;
  if (slot >= std::min(limit->concurrency, layout::lease_slot_count) || holder == 0) return false;
  auto& st = state.limits[limit->state];
  if (!st.leases[slot].holder.compare_exchange_strong(holder, 0, std::memory_order_acq_rel))
    return false;
  st.released.fetch_add(1, relaxed);
  ring(st);
  return true;
}

}  // namespace sluice::governance
