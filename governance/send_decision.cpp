#include "governance/send_decision.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "governance/clock.hpp"
#include "governance/glob.hpp"

namespace sluice::governance {
namespace {

constexpr std::uint32_t cell_probes = 16;

bool matches(const compiled_rule& r, const backpressure::admission_request& q) noexcept {
  if (!r.key.empty()) return false;  // a rule on acquires
  if ((r.priorities & (1u << static_cast<unsigned>(q.prio))) == 0) return false;
  return glob_match(r.from, q.from) && glob_match(r.to, q.to) && glob_match(r.type, q.type);
}

void note_denial(layout::rule_state& st, std::string_view who) noexcept {
  st.last_denial_ns.store(realtime_ns(), relaxed);
  store_name(st.last_denied, who);
}

}  // namespace

void store_name(std::atomic<std::uint64_t> (&words)[layout::name_bytes / 8],
                std::string_view who) noexcept {
  char buf[layout::name_bytes] = {};
  std::memcpy(buf, who.data(), std::min(who.size(), layout::name_bytes - 1));
  for (std::size_t i = 0; i < layout::name_bytes / 8; ++i) {
    std::uint64_t w = 0;
    std::memcpy(&w, buf + 8 * i, 8);
    words[i].store(w, relaxed);
  }
}

std::string load_name(const std::atomic<std::uint64_t> (&words)[layout::name_bytes / 8]) {
  char buf[layout::name_bytes + 1] = {};
  for (std::size_t i = 0; i < layout::name_bytes / 8; ++i) {
    const std::uint64_t w = words[i].load(relaxed);
    std::memcpy(buf + 8 * i, &w, 8);
  }
  std::string s(buf);
  // Shared memory is not trusted: keep what a name may hold.
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c < 0x20 || c >= 0x7f; }),
          s.end());
  return s;
}

std::atomic<std::uint64_t>* cell_word(layout::file& state, std::uint64_t key) noexcept {
  if (key == 0) key = 1;
  const auto start = static_cast<std::uint32_t>(key % layout::cell_count);
  for (std::uint32_t n = 0; n < cell_probes; ++n) {
    auto& c = state.cells[(start + n) % layout::cell_count];
    std::uint64_t seen = c.key.load(std::memory_order_acquire);
    if (seen == key) return &c.word;
    if (seen == 0) {
      if (c.key.compare_exchange_strong(seen, key, std::memory_order_acq_rel) || seen == key)
        return &c.word;
    }
  }
  return nullptr;
}

std::atomic<std::uint64_t>& rule_word(layout::file& state, const compiled_rule& rule,
                                      std::string_view from, std::string_view to) noexcept {
  auto& own = state.rules[rule.state].word;
  std::uint64_t key = 0;
  switch (rule.per) {
    case scope::rule:
      return own;
    case scope::from:
      key = hash_name(from, rule.fingerprint);
      break;
    case scope::to:
      key = hash_name(to, rule.fingerprint ^ 0x746f);
      break;
    case scope::pair:
      key = hash_name(to, hash_name(from, rule.fingerprint ^ 0x7061));
      break;
  }
  auto* w = cell_word(state, key);
  return w != nullptr ? *w : own;
}

backpressure::admission_verdict decide_send(layout::file& state, const compiled_policy& policy,
                                            const backpressure::admission_request& q,
                                            std::int64_t now_ns) noexcept {
  using backpressure::admit_kind;
  backpressure::admission_verdict v;
  v.demote_to = q.prio;  // lowered by each demote that applies, never raised
  std::array<charge, max_rules> takes;
  std::size_t ntakes = 0;
  auto refuse = [&](admit_kind kind) {
    for (std::size_t i = 0; i < ntakes; ++i) give_back(takes[i]);
    v.kind = kind;
    v.delay_ns = 0;
    return v;
  };
  for (const compiled_rule& r : policy.rules) {
    if (!matches(r, q)) continue;
    auto& st = state.rules[r.state];
    st.matched.fetch_add(1, relaxed);
    if (r.act == action::deny) {
      st.denied.fetch_add(1, relaxed);
      note_denial(st, q.from);
      return refuse(admit_kind::deny);
    }
    if (!r.limit) {  // demote or log without a rate: every matching send
      if (r.act == action::demote) {
        st.demoted.fetch_add(1, relaxed);
        v.kind = admit_kind::demote;
        v.demote_to = std::min(v.demote_to, r.demote_to);
      }
      continue;
    }
    auto& word = rule_word(state, r, q.from, q.to);
    const decision d = take(word, *r.limit, now_ns, 1);
    if (d.allowed) {
      takes[ntakes++] = charge{&word, &*r.limit, d.word, 1};
      v.delay_ns = std::max(v.delay_ns, d.delay_ns);
      continue;
    }
    switch (r.act) {
      case action::limit:
        st.denied.fetch_add(1, relaxed);
        note_denial(st, q.from);
        v.retry_after_ns = std::max<std::int64_t>(d.retry_after_ns, 1);
        return refuse(admit_kind::wait);
      case action::demote:
        st.demoted.fetch_add(1, relaxed);
        v.kind = admit_kind::demote;
        v.demote_to = std::min(v.demote_to, r.demote_to);
        break;
      case action::log:
        st.logged.fetch_add(1, relaxed);
        break;
      case action::deny:
        break;
    }
  }
  if (v.kind == admit_kind::demote && v.demote_to >= q.prio) v.kind = admit_kind::allow;
  return v;
}

}  // namespace sluice::governance
