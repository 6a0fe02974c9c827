#include "governance/report.hpp"

#include <algorithm>
#include <ctime>
#include <map>

#include "governance/acquire.hpp"
#include "governance/holder.hpp"
#include "governance/send_decision.hpp"

namespace sluice::governance {
namespace {

nlohmann::ordered_json spec_json(const limiter_spec& s, const std::string& text) {
  nlohmann::ordered_json j;
  j["algorithm"] = to_string(s.algo);
  j["rate"] = text;
  j["count"] = s.count;
  j["period_ms"] = s.period_ns / 1'000'000;
  if (s.algo == algorithm::token_bucket || s.algo == algorithm::leaky_bucket) j["burst"] = s.burst;
  return j;
}

nlohmann::ordered_json view_json(const limiter_spec& s, std::uint64_t word, std::int64_t now) {
  const limiter_view v = inspect(word, s, now);
  nlohmann::ordered_json j;
  j["available"] = v.available;
  j["limit"] = v.limit;
  if (s.algo == algorithm::fixed_window || s.algo == algorithm::sliding_window)
    j["window_count"] = v.window_count;
  return j;
}

nlohmann::ordered_json time_or_null(std::int64_t real_ns) {
  return real_ns == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(utc_text(real_ns));
}

}  // namespace

std::string utc_text(std::int64_t real_ns) {
  const std::time_t t = real_ns / 1'000'000'000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::ordered_json policy_report(const compiled_policy& p) {
  nlohmann::ordered_json j;
  j["version"] = p.generation;
  j["source"] = p.source;
  j["applied"] = time_or_null(p.applied_ns);
  j["match"] = "every matching rule applies, in file order; the first refusal decides";
  auto& rules = j["rules"] = nlohmann::ordered_json::array();
  for (const auto& r : p.rules) {
    nlohmann::ordered_json o;
    o["name"] = r.name;
    o["action"] = to_string(r.act);
    if (r.key.empty()) {
      o["from"] = r.from;
      o["to"] = r.to;
      o["type"] = r.type;
    } else {
      o["key"] = r.key;
      o["agent"] = r.from;
    }
    if (r.limit) o["limiter"] = spec_json(*r.limit, r.rate_text);
    if (r.limit) o["per"] = to_string(r.per);
    if (r.act == action::demote) o["demote_to"] = inbox::to_string(r.demote_to);
    rules.push_back(std::move(o));
  }
  auto& limits = j["limits"] = nlohmann::ordered_json::array();
  for (const auto& l : p.limits) {
    nlohmann::ordered_json o;
    o["name"] = l.name;
    if (l.rate) o["rate"] = spec_json(*l.rate, l.rate_text);
    if (l.cost_rate) o["cost_rate"] = spec_json(*l.cost_rate, l.cost_rate_text);
    if (l.concurrency) o["concurrency"] = l.concurrency;
    if (l.quota) {
      o["quota"] = l.quota->text;
      o["quota_mode"] = l.quota->hard ? "hard" : "soft";
    }
    limits.push_back(std::move(o));
  }
  return j;
}

nlohmann::ordered_json limits_report(const layout::file& state, const compiled_policy& p,
                                     std::int64_t now, std::int64_t real_ns) {
  nlohmann::ordered_json j;
  j["version"] = p.generation;
  auto& rules = j["rules"] = nlohmann::ordered_json::array();
  for (const auto& r : p.rules) {
    const auto& st = state.rules[r.state];
    nlohmann::ordered_json o;
    o["name"] = r.name;
    o["action"] = to_string(r.act);
    if (r.limit) {
      o["limiter"] = spec_json(*r.limit, r.rate_text);
      o["per"] = to_string(r.per);
      if (r.per == scope::rule) o["now"] = view_json(*r.limit, st.word.load(relaxed), now);
    }
    const std::uint64_t matched = st.matched.load(relaxed);
    const std::uint64_t denied = st.denied.load(relaxed);
    o["matched"] = matched;
    o["allowed"] = matched - std::min(matched, denied);
    o["denied"] = denied;
    o["demoted"] = st.demoted.load(relaxed);
    o["logged"] = st.logged.load(relaxed);
    o["last_denial"] = time_or_null(st.last_denial_ns.load(relaxed));
    if (st.last_denial_ns.load(relaxed) != 0) o["last_denied"] = load_name(st.last_denied);
    rules.push_back(std::move(o));
  }
  auto& limits = j["limits"] = nlohmann::ordered_json::array();
  for (const auto& l : p.limits) {
    const auto& st = state.limits[l.state];
    nlohmann::ordered_json o;
    o["name"] = l.name;
    if (l.rate) {
      o["rate"] = spec_json(*l.rate, l.rate_text);
      o["rate"]["now"] = view_json(*l.rate, st.rate_word.load(relaxed), now);
    }
    if (l.cost_rate) {
      o["cost_rate"] = spec_json(*l.cost_rate, l.cost_rate_text);
      o["cost_rate"]["now"] = view_json(*l.cost_rate, st.cost_word.load(relaxed), now);
    }
    if (l.concurrency) {
      o["concurrency"] = l.concurrency;
      auto& holders = o["holders"] = nlohmann::ordered_json::array();
      for (std::uint32_t i = 0; i < std::min(l.concurrency, layout::lease_slot_count); ++i) {
        const std::uint64_t h = st.leases[i].holder.load(relaxed);
        if (h == 0) continue;
        holders.push_back({{"slot", i},
                           {"pid", holder_pid(h)},
                           {"alive", holder_alive(h)},
                           {"since", time_or_null(st.leases[i].since_ns.load(relaxed))}});
      }
    }
    if (l.quota) {
      const std::uint64_t used = quota_used(st, l.quota->period, real_ns);
      o["quota"] = {{"quota", l.quota->text},
                    {"mode", l.quota->hard ? "hard" : "soft"},
                    {"used", used},
                    {"left", l.quota->amount - std::min(used, l.quota->amount)}};
    }
    o["granted"] = st.granted.load(relaxed);
    o["refused_rate"] = st.refused_rate.load(relaxed);
    o["refused_quota"] = st.refused_quota.load(relaxed);
    o["refused_concurrency"] = st.refused_concurrency.load(relaxed);
    o["released"] = st.released.load(relaxed);
    o["reclaimed"] = st.reclaimed.load(relaxed);
    o["cost_total"] = st.cost_total.load(relaxed);
    o["last_denial"] = time_or_null(st.last_denial_ns.load(relaxed));
    limits.push_back(std::move(o));
  }
  j["check_rate"] = {{"allowed", state.ctl.check_rate_allowed.load(relaxed)},
                     {"denied", state.ctl.check_rate_denied.load(relaxed)}};
  return j;
}

nlohmann::ordered_json quota_report(const layout::file& state, const compiled_policy& p,
                                    std::int64_t real_ns) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& l : p.limits) {
    if (!l.quota) continue;
    const auto& st = state.limits[l.state];
    const std::uint64_t used = quota_used(st, l.quota->period, real_ns);
    const auto [start, end] = period_bounds(l.quota->period, real_ns);
    const double utilization = static_cast<double>(used) / static_cast<double>(l.quota->amount);
    nlohmann::ordered_json o;
    o["name"] = l.name;
    o["quota"] = l.quota->text;
    o["period"] = to_string(l.quota->period);
    o["calendar"] = "UTC";
    o["mode"] = l.quota->hard ? "hard" : "soft";
    o["used"] = used;
    o["limit"] = l.quota->amount;
    o["left"] = l.quota->amount - std::min(used, l.quota->amount);
    o["utilization"] = utilization;
    o["peak"] = std::max(st.peak.load(relaxed), used);
    o["period_start"] = utc_text(start);
    o["period_end"] = utc_text(end);
    // At the pace used so far this period, when the quota runs out (null: not before the
    // period ends, or nothing used yet).
    nlohmann::ordered_json depletion = nullptr;
    const std::int64_t elapsed = real_ns - start;
    if (used >= l.quota->amount) {
      depletion = "now";
    } else if (used > 0 && elapsed > 0) {
      const double per_ns = static_cast<double>(used) / static_cast<double>(elapsed);
      const double at =
          static_cast<double>(real_ns) + static_cast<double>(l.quota->amount - used) / per_ns;
      if (at < static_cast<double>(end)) depletion = utc_text(static_cast<std::int64_t>(at));
    }
    o["depletion_estimate"] = depletion;
    std::string alert = "ok";
    if (utilization >= 1.0)
      alert = "100%";
    else if (utilization >= 0.95)
      alert = "95%";
    else if (utilization >= 0.80)
      alert = "80%";
    o["alert"] = alert;
    out.push_back(std::move(o));
  }
  return out;
}

nlohmann::ordered_json cost_report(const layout::file& state, cost_grouping by, quota_period period,
                                   std::int64_t real_ns) {
  struct row {
    std::uint64_t count = 0, cost = 0, in_period = 0, duration_ns = 0;
  };
  std::map<std::pair<std::string, std::string>, row> rows;
  for (const auto& e : state.ledger) {
    const std::uint64_t key = e.key.load(std::memory_order_acquire);
    if (key == 0) continue;
    const std::string agent = load_name(e.agent);
    const std::string limit = load_name(e.limit);
    if (hash_name(agent + '\n' + limit) != key) continue;  // being written, or damaged
    const std::pair<std::string, std::string> k{by == cost_grouping::key ? "" : agent,
                                                by == cost_grouping::agent ? "" : limit};
    auto& r = rows[k];
    r.count += e.count.load(relaxed);
    r.cost += e.cost.load(relaxed);
    r.duration_ns += e.duration_ns.load(relaxed);
    const auto& w = period == quota_period::hour  ? e.hour
                    : period == quota_period::day ? e.day
                                                  : e.month;
    r.in_period += used_in_period(w.load(relaxed), period, real_ns);
  }
  auto out = nlohmann::ordered_json::array();
  for (const auto& [k, r] : rows) {
    nlohmann::ordered_json o;
    if (by != cost_grouping::key) o["agent"] = k.first;
    if (by != cost_grouping::agent) o["key"] = k.second;
    o["period"] = to_string(period);
    o["cost"] = r.in_period;
    o["cost_total"] = r.cost;
    o["calls"] = r.count;
    o["run_seconds"] = static_cast<double>(r.duration_ns) / 1e9;
    out.push_back(std::move(o));
  }
  return out;
}

numbers snapshot(const layout::file& state, const compiled_policy& p, std::int64_t real_ns) {
  numbers n;
  for (const auto& r : p.rules) {
    const auto& st = state.rules[r.state];
    const std::uint64_t matched = st.matched.load(relaxed);
    const std::uint64_t denied = st.denied.load(relaxed);
    n.rules.push_back({r.name, matched - std::min(matched, denied), denied,
                       st.demoted.load(relaxed), st.logged.load(relaxed)});
  }
  for (const auto& l : p.limits) {
    const auto& st = state.limits[l.state];
    limit_numbers x;
    x.name = l.name;
    x.granted = st.granted.load(relaxed);
    x.refused = st.refused_rate.load(relaxed) + st.refused_quota.load(relaxed) +
                st.refused_concurrency.load(relaxed);
    for (std::uint32_t i = 0; i < std::min(l.concurrency, layout::lease_slot_count); ++i)
      x.holders += st.leases[i].holder.load(relaxed) != 0;
    if (l.quota) {
      x.has_quota = true;
      x.quota_used = quota_used(st, l.quota->period, real_ns);
      x.quota_limit = l.quota->amount;
    }
    n.limits.push_back(std::move(x));
  }
  return n;
}

bool reset_named(layout::file& state, const compiled_policy& p, std::string_view name) noexcept {
  for (const auto& r : p.rules) {
    if (r.name != name) continue;
    auto& st = state.rules[r.state];
    st.word.store(0, relaxed);
    for (auto* c : {&st.matched, &st.denied, &st.demoted, &st.logged}) c->store(0, relaxed);
    st.last_denial_ns.store(0, relaxed);
    return true;
  }
  for (const auto& l : p.limits) {
    if (l.name != name) continue;
    auto& st = state.limits[l.state];
    for (auto* c :
         {&st.rate_word, &st.cost_word, &st.quota_word, &st.peak, &st.granted, &st.refused_rate,
          &st.refused_quota, &st.refused_concurrency, &st.released, &st.reclaimed, &st.cost_total})
      c->store(0, relaxed);
    st.last_denial_ns.store(0, relaxed);
    return true;
  }
  return false;
}

}  // namespace sluice::governance
