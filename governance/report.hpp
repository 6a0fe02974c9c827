#pragma once
// What `sluice limits`, `sluice quota`, `sluice cost` and `sluice policy show` print, built
// once from policy.ctl so the verbs, Prometheus and `sluice top` read the same numbers.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "governance/compiled.hpp"
#include "governance/store_layout.hpp"

namespace sluice::governance {

// The policy in force: its rules and limits as written (policy show).
nlohmann::ordered_json policy_report(const compiled_policy& policy);

// Every rule and limit with its state now: algorithm, rate, burst, available units, window
// count, counters (matched, allowed, denied, demoted, logged), last denial, lease holders,
// quota used and left.
nlohmann::ordered_json limits_report(const layout::file& state, const compiled_policy& policy,
                                     std::int64_t now_ns, std::int64_t real_ns);

// Every limit with a quota: period (calendar, UTC), used, limit, left, utilization, peak,
// mode, and when the period ends and, at the rate used so far, when it runs out.
nlohmann::ordered_json quota_report(const layout::file& state, const compiled_policy& policy,
                                    std::int64_t real_ns);

enum class cost_grouping { agent, key, both };
// Cost per agent, per key, or per (agent, key), in the current hour, day or month (UTC).
nlohmann::ordered_json cost_report(const layout::file& state, cost_grouping by, quota_period period,
                                   std::int64_t real_ns);

// The numbers monitors export (Prometheus series, metric lines), per rule and per limit.
struct rule_numbers {
  std::string name;
  std::uint64_t allowed = 0, denied = 0, demoted = 0, logged = 0;
};
struct limit_numbers {
  std::string name;
  std::uint64_t granted = 0, refused = 0, holders = 0;
  bool has_quota = false;
  std::uint64_t quota_used = 0, quota_limit = 0;
};
struct numbers {
  std::vector<rule_numbers> rules;
  std::vector<limit_numbers> limits;
};
numbers snapshot(const layout::file& state, const compiled_policy& policy, std::int64_t real_ns);

// Zeroes a rule's or limit's limiter words and counters (and a limit's quota usage); leases
// held stay held. False when no rule or limit has that name.
bool reset_named(layout::file& state, const compiled_policy& policy,
                 std::string_view name) noexcept;

// An ISO 8601 UTC time for CLOCK_REALTIME ns (0: null in reports).
std::string utc_text(std::int64_t real_ns);

}  // namespace sluice::governance
