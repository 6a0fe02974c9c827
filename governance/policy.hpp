#pragma once
// A governance policy as written in a policy file (docs/architecture.md section 12), after
// checking: every value valid, every name unique. `sluice policy check` parses one; `policy
// apply` compiles it into policy.ctl (store.hpp), where every sender reads it.
//
//   [[rule]]                     # applies to sends (or, with `key`, to acquires)
//   name = "workers-to-coordinator"
//   from = "worker-*"            # globs on from / to / type; priority optional
//   to = "coordinator"
//   action = "limit"             # limit | deny | demote | log
//   rate = "5/s"                 # per s, m, h, d, or any duration: "30/5m"
//   burst = 5
//   algorithm = "token_bucket"   # token_bucket | sliding_window | fixed_window | leaky_bucket
//
//   [[limit]]                    # a named resource outside the bus (acquire / run)
//   name = "llm"
//   rate = "50/m"                # requests
//   cost_rate = "100000/m"       # units of cost (tokens)
//   concurrency = 4              # at most 4 leases at once
//   quota = "1000000/d"          # cost units per hour, day or month (calendar, UTC)
//   quota_mode = "hard"          # hard denies, soft alerts and allows
//
// Which rules apply: every rule whose globs match applies, in file order; the first that
// refuses (deny, or a limit with no room) decides, and what earlier rules took is given back.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "governance/algorithms.hpp"
#include "inbox/lanes.hpp"

namespace sluice::governance {

inline constexpr std::size_t max_rules = 64;
inline constexpr std::size_t max_limits = 32;
inline constexpr std::size_t max_name = 63;           // rule and limit names
inline constexpr std::size_t max_pattern = 63;        // from / to / type / key globs
inline constexpr std::uint32_t max_concurrency = 64;  // lease slots per limit in policy.ctl

enum class action : std::uint8_t { limit = 0, deny = 1, demote = 2, log = 3 };
const char* to_string(action) noexcept;

// Whose limiter a rule's limit is: one for the whole rule, or one per sender, destination or
// pair (`per = "from"`).
enum class scope : std::uint8_t { rule = 0, from = 1, to = 2, pair = 3 };
const char* to_string(scope) noexcept;

// Quotas run over calendar periods in UTC: an hour from :00, a day from 00:00, a month from
// the 1st, 00:00 (not rolling windows: a budget resets when the provider's does).
enum class quota_period : std::uint8_t { hour = 0, day = 1, month = 2 };
const char* to_string(quota_period) noexcept;

struct rule {
  std::string name;
  std::string from = "*";
  std::string to = "*";
  std::string type = "*";
  std::string key;  // non-empty: the rule governs acquires of matching limits, `from` = agent
  // Lanes it matches, bit (1 << priority). Without `priority` in the file: every regular
  // lane, not critical (critical messages are for emergencies; name them to govern them).
  std::uint8_t priorities = 0;
  action act = action::limit;
  std::optional<limiter_spec> limit;  // required by limit; optional for demote and log
  scope per = scope::rule;
  inbox::priority demote_to = inbox::priority::low;
  std::string rate_text;  // as written, for display
  int line = 0;
};

struct quota_spec {
  std::uint64_t amount = 0;
  quota_period period = quota_period::day;
  bool hard = true;
  std::string text;
};

struct limit_def {
  std::string name;
  algorithm algo = algorithm::token_bucket;
  std::optional<limiter_spec> rate;       // requests: every acquire costs 1
  std::optional<limiter_spec> cost_rate;  // cost units: an acquire costs --cost
  std::uint32_t concurrency = 0;          // 0: no leases
  std::optional<quota_spec> quota;
  std::uint64_t agent_budget = 0;  // per agent per quota period, alerts only; 0: none
  std::string rate_text;
  std::string cost_rate_text;
  int line = 0;
};

struct policy {
  std::vector<rule> rules;
  std::vector<limit_def> limits;
};

// Every priority bit a rule may name.
inline constexpr std::uint8_t all_priorities = 0x0f;
inline constexpr std::uint8_t regular_priorities =
    all_priorities &
    static_cast<std::uint8_t>(~(1u << static_cast<unsigned>(inbox::priority::critical)));

// "a-z A-Z 0-9 _ - ." , 1..63: rule and limit names.
bool is_valid_policy_name(std::string_view name) noexcept;

}  // namespace sluice::governance
