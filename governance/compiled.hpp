#pragma once
// A policy as it lives in policy.ctl: fixed-size records in one buffer of words, written by
// `policy apply` (encode) and read back by every process that obeys it (decode). decode
// trusts nothing: it checks the checksum, every count, enum and state index, and re-validates
// every name, pattern and limiter, so a corrupt or hostile file is refused with a reason
// instead of being obeyed.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "governance/policy.hpp"
#include "governance/store_layout.hpp"

namespace sluice::governance {

struct compiled_rule {
  std::string name;
  std::string from;
  std::string to;
  std::string type;
  std::string key;  // non-empty: a rule on acquires
  action act = action::limit;
  scope per = scope::rule;
  std::uint8_t priorities = regular_priorities;
  inbox::priority demote_to = inbox::priority::low;
  std::optional<limiter_spec> limit;
  std::string rate_text;
  std::uint32_t state = 0;        // index into layout::file::rules
  std::uint64_t fingerprint = 0;  // of the limiter: cells of per-key rules are keyed by it
  int line = 0;
};

struct compiled_limit {
  std::string name;
  algorithm algo = algorithm::token_bucket;
  std::optional<limiter_spec> rate;
  std::optional<limiter_spec> cost_rate;
  std::uint32_t concurrency = 0;
  std::optional<quota_spec> quota;
  std::uint64_t agent_budget = 0;
  std::string rate_text;
  std::string cost_rate_text;
  std::uint32_t state = 0;  // index into layout::file::limits
};

struct compiled_policy {
  std::uint64_t generation = 0;  // 0: nothing applied
  std::string source;            // the file it was applied from
  std::int64_t applied_ns = 0;   // CLOCK_REALTIME
  std::vector<compiled_rule> rules;
  std::vector<compiled_limit> limits;

  const compiled_limit* limit_named(std::string_view name) const noexcept;
};

// Where each rule's and limit's state lives: chosen by the store under its lock.
struct state_slots {
  std::vector<std::uint32_t> rules;   // per rule of the policy
  std::vector<std::uint32_t> limits;  // per limit
};

// The buffer image of a policy (layout::buffer_words words).
std::vector<std::uint64_t> encode(const policy& p, const state_slots& slots,
                                  const std::string& source, std::int64_t applied_ns);

// Reads an image back; an error says what is wrong with it.
std::optional<std::string> decode(const std::uint64_t* words, std::size_t count,
                                  compiled_policy& out);

// The parameters a limiter word belongs to: a change of any of them starts the word afresh.
std::uint64_t fingerprint(const limiter_spec& spec, scope per) noexcept;

// 64-bit FNV-1a, the hash every process uses for names and keys.
std::uint64_t hash_name(std::string_view text,
                        std::uint64_t seed = 14695981039346656037ull) noexcept;

}  // namespace sluice::governance
