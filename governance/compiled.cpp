#include "governance/compiled.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "governance/glob.hpp"

namespace sluice::governance {
namespace {

constexpr std::uint32_t image_magic = 0x314c4f50;  // "POL1"

struct image_header {
  std::uint32_t magic;
  std::uint32_t rule_count;
  std::uint32_t limit_count;
  std::uint32_t reserved;
  std::uint64_t checksum;  // hash_name over every byte after this header
  std::int64_t applied_ns;
  char source[128];
};

struct spec_record {
  std::uint64_t count;
  std::int64_t period_ns;
  std::uint64_t burst;
};

struct rule_record {
  char name[64];
  char from[64];
  char to[64];
  char type[64];
  char key[64];
  char rate_text[32];
  std::uint8_t act;
  std::uint8_t per;
  std::uint8_t algo;
  std::uint8_t priorities;
  std::uint8_t demote_to;
  std::uint8_t has_limit;
  std::uint8_t reserved[2];
  std::uint32_t state;
  std::int32_t line;
  spec_record limit;
  std::uint64_t fingerprint;
};

struct limit_record {
  char name[64];
  char rate_text[32];
  char cost_rate_text[32];
  char quota_text[32];
  std::uint8_t algo;
  std::uint8_t has_rate;
  std::uint8_t has_cost_rate;
  std::uint8_t has_quota;
  std::uint8_t quota_period;
  std::uint8_t quota_hard;
  std::uint8_t reserved[2];
  std::uint32_t concurrency;
  std::uint32_t state;
  spec_record rate;
  spec_record cost_rate;
  std::uint64_t quota_amount;
  std::uint64_t agent_budget;
};

static_assert(std::is_trivially_copyable_v<rule_record> && sizeof(rule_record) == 400);
static_assert(std::is_trivially_copyable_v<limit_record> && sizeof(limit_record) == 240);
static_assert(sizeof(image_header) == 160);
constexpr std::size_t image_bytes =
    sizeof(image_header) + max_rules * sizeof(rule_record) + max_limits * sizeof(limit_record);
static_assert(image_bytes <= layout::buffer_words * 8);

template <std::size_t N>
void put(char (&dst)[N], std::string_view s) noexcept {
  std::memset(dst, 0, N);
  std::memcpy(dst, s.data(), std::min(s.size(), N - 1));
}

// A string field read back: NUL-terminated within its size, or nothing.
template <std::size_t N>
std::optional<std::string> get(const char (&src)[N]) {
  const void* nul = std::memchr(src, 0, N);
  if (nul == nullptr) return std::nullopt;
  return std::string(src, static_cast<const char*>(nul));
}

spec_record to_record(const limiter_spec& s) noexcept {
  return {s.count, s.period_ns, s.burst};
}
limiter_spec from_record(const spec_record& r, algorithm a) noexcept {
  return {a, r.count, r.period_ns, r.burst};
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 1099511628211ull;
  }
  return h;
}

bool printable(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

std::uint64_t hash_name(std::string_view text, std::uint64_t seed) noexcept {
  std::uint64_t h = seed;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h;  // 0 marks a free slot
}

std::uint64_t fingerprint(const limiter_spec& s, scope per) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  h = mix(h, static_cast<std::uint64_t>(s.algo));
  h = mix(h, s.count);
  h = mix(h, static_cast<std::uint64_t>(s.period_ns));
  h = mix(h, s.burst);
  h = mix(h, static_cast<std::uint64_t>(per));
  return h == 0 ? 1 : h;
}

const compiled_limit* compiled_policy::limit_named(std::string_view name) const noexcept {
  for (const auto& l : limits)
    if (l.name == name) return &l;
  return nullptr;
}

std::vector<std::uint64_t> encode(const policy& p, const state_slots& slots,
                                  const std::string& source, std::int64_t applied_ns) {
  std::vector<unsigned char> bytes(image_bytes, 0);
  image_header h{};
  h.magic = image_magic;
  h.rule_count = static_cast<std::uint32_t>(std::min(p.rules.size(), max_rules));
  h.limit_count = static_cast<std::uint32_t>(std::min(p.limits.size(), max_limits));
  h.applied_ns = applied_ns;
  put(h.source, source);
  unsigned char* at = bytes.data() + sizeof(image_header);
  for (std::size_t i = 0; i < h.rule_count; ++i) {
    const rule& r = p.rules[i];
    rule_record rec{};
    put(rec.name, r.name);
    put(rec.from, r.from);
    put(rec.to, r.to);
    put(rec.type, r.type);
    put(rec.key, r.key);
    put(rec.rate_text, r.rate_text);
    rec.act = static_cast<std::uint8_t>(r.act);
    rec.per = static_cast<std::uint8_t>(r.per);
    rec.priorities = r.priorities;
    rec.demote_to = static_cast<std::uint8_t>(r.demote_to);
    rec.has_limit = r.limit ? 1 : 0;
    if (r.limit) {
      rec.algo = static_cast<std::uint8_t>(r.limit->algo);
      rec.limit = to_record(*r.limit);
      rec.fingerprint = fingerprint(*r.limit, r.per);
    }
    rec.state = slots.rules.at(i);
    rec.line = r.line;
    std::memcpy(at + i * sizeof(rule_record), &rec, sizeof rec);
  }
  at += max_rules * sizeof(rule_record);
  for (std::size_t i = 0; i < h.limit_count; ++i) {
    const limit_def& l = p.limits[i];
    limit_record rec{};
    put(rec.name, l.name);
    put(rec.rate_text, l.rate_text);
    put(rec.cost_rate_text, l.cost_rate_text);
    rec.algo = static_cast<std::uint8_t>(l.algo);
    rec.has_rate = l.rate ? 1 : 0;
    rec.has_cost_rate = l.cost_rate ? 1 : 0;
    if (l.rate) rec.rate = to_record(*l.rate);
    if (l.cost_rate) rec.cost_rate = to_record(*l.cost_rate);
    rec.concurrency = l.concurrency;
    if (l.quota) {
      rec.has_quota = 1;
      rec.quota_period = static_cast<std::uint8_t>(l.quota->period);
      rec.quota_hard = l.quota->hard ? 1 : 0;
      rec.quota_amount = l.quota->amount;
      put(rec.quota_text, l.quota->text);
    }
    rec.agent_budget = l.agent_budget;
    rec.state = slots.limits.at(i);
    std::memcpy(at + i * sizeof(limit_record), &rec, sizeof rec);
  }
  h.checksum =
      hash_name(std::string_view(reinterpret_cast<const char*>(bytes.data()) + sizeof(image_header),
                                 image_bytes - sizeof(image_header)));
  std::memcpy(bytes.data(), &h, sizeof h);
  std::vector<std::uint64_t> words(layout::buffer_words, 0);
  std::memcpy(words.data(), bytes.data(), image_bytes);
  return words;
}

std::optional<std::string> decode(const std::uint64_t* words, std::size_t count,
                                  compiled_policy& out) {
  if (count * 8 < image_bytes) return "the policy buffer is too small";
  std::vector<unsigned char> bytes(image_bytes);
  std::memcpy(bytes.data(), words, image_bytes);
  image_header h{};
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.magic != image_magic) return "the compiled policy has a bad magic";
  if (h.rule_count > max_rules || h.limit_count > max_limits)
    return "the compiled policy counts more rules or limits than a policy may hold";
  const auto sum =
      hash_name(std::string_view(reinterpret_cast<const char*>(bytes.data()) + sizeof(image_header),
                                 image_bytes - sizeof(image_header)));
  if (sum != h.checksum) return "the compiled policy fails its checksum";
  compiled_policy p;
  p.source = get(h.source).value_or("");
  p.applied_ns = h.applied_ns;
  const unsigned char* at = bytes.data() + sizeof(image_header);
  for (std::size_t i = 0; i < h.rule_count; ++i) {
    rule_record rec{};
    std::memcpy(&rec, at + i * sizeof(rule_record), sizeof rec);
    compiled_rule r;
    auto name = get(rec.name);
    auto from = get(rec.from);
    auto to = get(rec.to);
    auto type = get(rec.type);
    auto key = get(rec.key);
    auto rate_text = get(rec.rate_text);
    const std::string which = "rule " + std::to_string(i + 1);
    if (!name || !is_valid_policy_name(*name)) return which + " has an invalid name";
    for (const auto* pat : {&from, &to, &type}) {
      if (!*pat || !is_valid_glob(**pat, max_pattern)) return which + " has an invalid pattern";
    }
    if (!key || (!key->empty() && !is_valid_glob(*key, max_pattern)))
      return which + " has an invalid key pattern";
    if (!rate_text || !printable(*rate_text)) return which + " has an invalid rate text";
    if (rec.act > static_cast<std::uint8_t>(action::log) ||
        rec.per > static_cast<std::uint8_t>(scope::pair) || rec.algo >= algorithm_count ||
        rec.priorities == 0 || (rec.priorities & ~all_priorities) != 0 ||
        rec.demote_to > static_cast<std::uint8_t>(inbox::priority::high) || rec.has_limit > 1)
      return which + " has a value out of range";
    if (rec.state >= layout::rule_state_count) return which + " points outside the rule states";
    r.name = std::move(*name);
    r.from = std::move(*from);
    r.to = std::move(*to);
    r.type = std::move(*type);
    r.key = std::move(*key);
    r.rate_text = std::move(*rate_text);
    r.act = static_cast<action>(rec.act);
    r.per = static_cast<scope>(rec.per);
    r.priorities = rec.priorities;
    r.demote_to = static_cast<inbox::priority>(rec.demote_to);
    if (rec.has_limit) {
      const auto spec = from_record(rec.limit, static_cast<algorithm>(rec.algo));
      if (validate(spec)) return which + " has an invalid limiter";
      r.limit = spec;
      r.fingerprint = fingerprint(spec, r.per);
    } else if (r.act == action::limit) {
      return which + " limits without a limiter";
    }
    r.state = rec.state;
    r.line = rec.line;
    p.rules.push_back(std::move(r));
  }
  at += max_rules * sizeof(rule_record);
  for (std::size_t i = 0; i < h.limit_count; ++i) {
    limit_record rec{};
    std::memcpy(&rec, at + i * sizeof(limit_record), sizeof rec);
    compiled_limit l;
    const std::string which = "limit " + std::to_string(i + 1);
    auto name = get(rec.name);
    auto rate_text = get(rec.rate_text);
    auto cost_text = get(rec.cost_rate_text);
    auto quota_text = get(rec.quota_text);
    if (!name || !is_valid_policy_name(*name)) return which + " has an invalid name";
    if (!rate_text || !cost_text || !quota_text || !printable(*rate_text) ||
        !printable(*cost_text) || !printable(*quota_text))
      return which + " has an invalid text";
    if (rec.algo >= algorithm_count || rec.has_rate > 1 || rec.has_cost_rate > 1 ||
        rec.has_quota > 1 || rec.quota_period > static_cast<std::uint8_t>(quota_period::month) ||
        rec.quota_hard > 1 || rec.concurrency > max_concurrency ||
        rec.quota_amount >= (1ull << 44) || rec.agent_budget >= (1ull << 44))
      return which + " has a value out of range";
    if (rec.state >= layout::limit_state_count) return which + " points outside the limit states";
    l.name = std::move(*name);
    l.algo = static_cast<algorithm>(rec.algo);
    if (rec.has_rate) {
      l.rate = from_record(rec.rate, l.algo);
      if (validate(*l.rate)) return which + " has an invalid rate";
    }
    if (rec.has_cost_rate) {
      l.cost_rate = from_record(rec.cost_rate, l.algo);
      if (validate(*l.cost_rate)) return which + " has an invalid cost rate";
    }
    l.concurrency = rec.concurrency;
    if (rec.has_quota) {
      if (rec.quota_amount == 0) return which + " has an empty quota";
      l.quota = quota_spec{rec.quota_amount, static_cast<quota_period>(rec.quota_period),
                           rec.quota_hard == 1, std::move(*quota_text)};
    }
    l.agent_budget = rec.agent_budget;
    l.rate_text = std::move(*rate_text);
    l.cost_rate_text = std::move(*cost_text);
    l.state = rec.state;
    p.limits.push_back(std::move(l));
  }
  out = std::move(p);
  return std::nullopt;
}

}  // namespace sluice::governance
