#include "governance/policy_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "governance/glob.hpp"
#include "inbox/inbox.hpp"
#include "runtime/count.hpp"
#include "runtime/duration.hpp"
#include "runtime/toml_words.hpp"

namespace sluice::governance {

const char* to_string(action a) noexcept {
  switch (a) {
    case action::limit:
      return "limit";
    case action::deny:
      return "deny";
    case action::demote:
      return "demote";
    case action::log:
      return "log";
  }
  return "unknown";
}

const char* to_string(scope s) noexcept {
  switch (s) {
    case scope::rule:
      return "rule";
    case scope::from:
      return "from";
    case scope::to:
      return "to";
    case scope::pair:
      return "pair";
  }
  return "unknown";
}

const char* to_string(quota_period p) noexcept {
  switch (p) {
    case quota_period::hour:
      return "hour";
    case quota_period::day:
      return "day";
    case quota_period::month:
      return "month";
  }
  return "unknown";
}

bool is_valid_policy_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_name) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::optional<std::string> parse_rate(std::string_view text, rate_value& out) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size())
    return std::string("is not a rate: write COUNT/PERIOD, e.g. \"5/s\", \"50/m\", \"100000/d\"");
  auto count = runtime::parse_count(text.substr(0, slash), "the count", 1, max_fixed_count);
  if (!count) return count.err().message;
  const std::string_view unit = text.substr(slash + 1);
  std::int64_t period = 0;
  if (unit == "s") {
    period = 1'000'000'000;
  } else if (unit == "m") {
    period = 60'000'000'000;
  } else if (unit == "h") {
    period = 3'600'000'000'000;
  } else if (unit == "d") {
    period = 86'400'000'000'000;
  } else {
    auto d = runtime::parse_duration(unit, "the period");
    if (!d)
      return std::string("has a period that is not s, m, h, d or a duration like 5m or 250ms");
    period = d->count();
  }
  if (period < 1'000'000) return std::string("has a period below 1 ms");
  if (period > 366 * 86'400'000'000'000) return std::string("has a period above a year");
  out.count = *count;
  out.period_ns = period;
  return std::nullopt;
}

std::optional<std::string> parse_quota(std::string_view text, std::uint64_t& amount,
                                       quota_period& period) {
  const auto slash = text.find('/');
  const char* form = "write AMOUNT/PERIOD with PERIOD h, d or month, e.g. \"100000/d\"";
  if (slash == std::string_view::npos || slash == 0) return std::string("is not a quota: ") + form;
  auto count = runtime::parse_count(text.substr(0, slash), "the amount", 1, (1ull << 44) - 1);
  if (!count) return count.err().message;
  const std::string_view unit = text.substr(slash + 1);
  if (unit == "h" || unit == "hour") {
    period = quota_period::hour;
  } else if (unit == "d" || unit == "day") {
    period = quota_period::day;
  } else if (unit == "month" || unit == "mo") {
    period = quota_period::month;
  } else {
    return std::string("has a period quotas do not know: ") + form;
  }
  amount = *count;
  return std::nullopt;
}

namespace {

using runtime::toml_type_name;

// Collects every problem of one file; a section with a problem is still checked to the end.
class checker {
 public:
  explicit checker(std::string file) : file_(std::move(file)) {}

  void problem(int line, const std::string& what) {
    errors.push_back(file_ + ":" + std::to_string(line) + ": " + what);
  }
  void problem(const toml::node& n, const std::string& what) {
    problem(static_cast<int>(n.source().begin.line), what);
  }

  void only_known(const toml::table& tbl, const std::string& section,
                  std::initializer_list<std::string_view> known) {
    for (auto&& [k, v] : tbl) {
      if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
      problem(static_cast<int>(k.source().begin.line),
              section + ": " + std::string(k.str()) + ": " + runtime::unknown_key_problem(known));
    }
  }

  std::optional<std::string> string_at(const toml::table& t, std::string_view key,
                                       const std::string& section) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_string()) {
      problem(*n,
              section + ": " + std::string(key) + " must be a string, not " + toml_type_name(*n));
      return std::nullopt;
    }
    return *n->value<std::string>();
  }

  std::optional<std::uint64_t> integer_at(const toml::table& t, std::string_view key,
                                          const std::string& section, std::uint64_t min,
                                          std::uint64_t max) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto v = n->value<std::int64_t>();
    if (!n->is_integer() || !v || *v < 0 || static_cast<std::uint64_t>(*v) < min ||
        static_cast<std::uint64_t>(*v) > max) {
      problem(*n, section + ": " + std::string(key) + " must be a whole number from " +
                      std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*v);
  }

  int line_of(const toml::table& t, std::string_view key, int fallback) const {
    const toml::node* n = t.get(key);
    return n ? static_cast<int>(n->source().begin.line) : fallback;
  }

  std::vector<std::string> errors;

 private:
  std::string file_;
};

std::string section_name(const char* kind, std::size_t index, const std::string& name) {
  return name.empty() ? std::string("[[") + kind + "]] #" + std::to_string(index + 1)
                      : std::string("[[") + kind + "]] '" + name + "'";
}

// A limiter from `rate` (+ `burst`) and an algorithm, with the burst's default: one
// period's worth for the buckets (50/m is 50 at once after an idle minute, as a window would
// grant them), none for windows.
std::optional<limiter_spec> limiter_from(checker& c, const toml::table& t, const std::string& sec,
                                         std::string_view rate_key, std::string_view burst_key,
                                         algorithm algo, std::string& text_out) {
  auto text = c.string_at(t, rate_key, sec);
  const int line = c.line_of(t, rate_key, static_cast<int>(t.source().begin.line));
  const bool windowed = algo == algorithm::fixed_window || algo == algorithm::sliding_window;
  const toml::node* burst_node = t.get(burst_key);
  if (!text) {
    if (burst_node)
      c.problem(*burst_node,
                sec + ": " + std::string(burst_key) + " needs " + std::string(rate_key));
    return std::nullopt;
  }
  rate_value r;
  if (auto why = parse_rate(*text, r)) {
    c.problem(line, sec + ": " + std::string(rate_key) + " \"" + *text + "\" " + *why);
    return std::nullopt;
  }
  limiter_spec spec{algo, r.count, r.period_ns, r.count};
  if (burst_node && windowed) {
    c.problem(*burst_node, sec + ": " + std::string(burst_key) +
                               " applies to token_bucket and "
                               "leaky_bucket; a window's limit is the rate's count");
  } else if (auto b = c.integer_at(t, burst_key, sec, 1, max_fixed_count)) {
    spec.burst = *b;
  }
  if (auto why = validate(spec)) {
    c.problem(line,
              sec + ": " + std::string(rate_key) + " \"" + *text + "\": " + std::string(*why));
    return std::nullopt;
  }
  text_out = *text;
  return spec;
}

algorithm algorithm_of(checker& c, const toml::table& t, const std::string& sec) {
  auto text = c.string_at(t, "algorithm", sec);
  if (!text) return algorithm::token_bucket;
  if (auto a = parse_algorithm(*text)) return *a;
  c.problem(*t.get("algorithm"), sec + ": algorithm \"" + *text +
                                     "\" is not one of token_bucket, sliding_window, "
                                     "fixed_window, leaky_bucket");
  return algorithm::token_bucket;
}

std::string pattern_at(checker& c, const toml::table& t, std::string_view key,
                       const std::string& sec) {
  auto text = c.string_at(t, key, sec);
  if (!text) return "*";
  if (!is_valid_glob(*text, max_pattern)) {
    c.problem(*t.get(key),
              sec + ": " + std::string(key) + " \"" + *text +
                  "\" is not a pattern: use 1-63 of A-Z a-z 0-9 _ - . : @ with * and ?");
    return "*";
  }
  return *text;
}

std::uint8_t priorities_at(checker& c, const toml::table& t, const std::string& sec) {
  const toml::node* n = t.get("priority");
  if (n == nullptr) return regular_priorities;
  std::uint8_t mask = 0;
  auto add = [&](const toml::node& item) {
    const auto s = item.value<std::string>();
    const auto p = s && item.is_string() ? inbox::parse_priority(*s) : std::nullopt;
    if (!p) {
      c.problem(item,
                sec + ": priority must be critical, high, normal or low (or an array of them)");
      return;
    }
    mask = static_cast<std::uint8_t>(mask | (1u << static_cast<unsigned>(*p)));
  };
  if (const auto* arr = n->as_array()) {
    for (const auto& item : *arr) add(item);
    if (arr->empty()) c.problem(*n, sec + ": priority must name at least one lane");
  } else {
    add(*n);
  }
  return mask == 0 ? regular_priorities : mask;
}

void check_rule(checker& c, const toml::table& t, std::size_t index, policy& out,
                std::set<std::string>& names) {
  rule r;
  r.line = static_cast<int>(t.source().begin.line);
  r.name = c.string_at(t, "name", "[[rule]]").value_or("");
  const std::string sec = section_name("rule", index, r.name);
  c.only_known(t, sec,
               {"name", "from", "to", "type", "key", "priority", "action", "rate", "burst",
                "algorithm", "per", "demote_to"});
  if (r.name.empty()) {
    c.problem(r.line, sec + ": name is required (1-63 of A-Z a-z 0-9 _ - .)");
  } else if (!is_valid_policy_name(r.name)) {
    c.problem(c.line_of(t, "name", r.line), sec + ": name must be 1-63 of A-Z a-z 0-9 _ - .");
  } else if (!names.insert(r.name).second) {
    c.problem(c.line_of(t, "name", r.line), sec + ": another [[rule]] has this name");
  }
  r.from = pattern_at(c, t, "from", sec);
  r.to = pattern_at(c, t, "to", sec);
  r.type = pattern_at(c, t, "type", sec);
  if (t.get("key")) {
    r.key = pattern_at(c, t, "key", sec);
    for (const char* send_only : {"to", "type", "priority", "demote_to"}) {
      if (const auto* n = t.get(send_only))
        c.problem(*n, sec + ": " + send_only +
                          " is for rules on sends; a rule with key governs "
                          "acquires (from = the agent)");
    }
  }
  r.priorities = priorities_at(c, t, sec);

  const auto act_text = c.string_at(t, "action", sec);
  if (!act_text) {
    c.problem(r.line, sec + ": action is required: limit, deny, demote or log");
  } else if (*act_text == "limit") {
    r.act = action::limit;
  } else if (*act_text == "deny") {
    r.act = action::deny;
  } else if (*act_text == "demote") {
    r.act = action::demote;
  } else if (*act_text == "log") {
    r.act = action::log;
  } else {
    c.problem(*t.get("action"),
              sec + ": action \"" + *act_text + "\" is not limit, deny, demote or log");
  }
  const algorithm algo = algorithm_of(c, t, sec);
  r.limit = limiter_from(c, t, sec, "rate", "burst", algo, r.rate_text);
  if (act_text && r.act == action::limit && !r.limit && !t.get("rate"))
    c.problem(r.line, sec + ": action limit needs a rate, e.g. rate = \"5/s\"");
  if (r.act == action::deny) {
    for (const char* k : {"rate", "burst", "algorithm", "per"}) {
      if (const auto* n = t.get(k))
        c.problem(*n,
                  sec + ": a deny rule refuses everything it matches; remove " + std::string(k));
    }
  }
  if (auto per = c.string_at(t, "per", sec)) {
    if (*per == "rule") {
      r.per = scope::rule;
    } else if (*per == "from") {
      r.per = scope::from;
    } else if (*per == "to" && r.key.empty()) {
      r.per = scope::to;
    } else if (*per == "pair" && r.key.empty()) {
      r.per = scope::pair;
    } else {
      c.problem(*t.get("per"),
                sec + ": per must be rule, from" +
                    std::string(r.key.empty() ? ", to or pair" : " (a rule with key)"));
    }
  }
  if (auto to = c.string_at(t, "demote_to", sec)) {
    const auto p = inbox::parse_priority(*to);
    if (r.act != action::demote) {
      c.problem(*t.get("demote_to"), sec + ": demote_to is for action demote");
    } else if (!p || *p == inbox::priority::critical) {
      c.problem(*t.get("demote_to"), sec + ": demote_to must be high, normal or low");
    } else {
      r.demote_to = *p;
    }
  }
  if (r.act == action::demote && !r.key.empty())
    c.problem(r.line, sec + ": demote lowers a message's lane; it does not apply to acquires");
  out.rules.push_back(std::move(r));
}

void check_limit(checker& c, const toml::table& t, std::size_t index, policy& out,
                 std::set<std::string>& names) {
  limit_def l;
  l.line = static_cast<int>(t.source().begin.line);
  l.name = c.string_at(t, "name", "[[limit]]").value_or("");
  const std::string sec = section_name("limit", index, l.name);
  c.only_known(t, sec,
               {"name", "rate", "burst", "cost_rate", "cost_burst", "algorithm", "concurrency",
                "quota", "quota_mode", "agent_budget"});
  if (l.name.empty()) {
    c.problem(l.line, sec + ": name is required (1-63 of A-Z a-z 0-9 _ - .)");
  } else if (!is_valid_policy_name(l.name)) {
    c.problem(c.line_of(t, "name", l.line), sec + ": name must be 1-63 of A-Z a-z 0-9 _ - .");
  } else if (!names.insert(l.name).second) {
    c.problem(c.line_of(t, "name", l.line), sec + ": another [[limit]] has this name");
  }
  l.algo = algorithm_of(c, t, sec);
  l.rate = limiter_from(c, t, sec, "rate", "burst", l.algo, l.rate_text);
  l.cost_rate = limiter_from(c, t, sec, "cost_rate", "cost_burst", l.algo, l.cost_rate_text);
  l.concurrency = static_cast<std::uint32_t>(
      c.integer_at(t, "concurrency", sec, 1, max_concurrency).value_or(0));
  if (auto q = c.string_at(t, "quota", sec)) {
    quota_spec spec;
    if (auto why = parse_quota(*q, spec.amount, spec.period)) {
      c.problem(*t.get("quota"), sec + ": quota \"" + *q + "\" " + *why);
    } else {
      spec.text = *q;
      l.quota = spec;
    }
  }
  if (auto mode = c.string_at(t, "quota_mode", sec)) {
    if (!t.get("quota")) {
      c.problem(*t.get("quota_mode"), sec + ": quota_mode needs a quota");
    } else if (*mode == "hard" || *mode == "soft") {
      if (l.quota) l.quota->hard = *mode == "hard";
    } else {
      c.problem(*t.get("quota_mode"),
                sec + ": quota_mode must be hard (deny) or soft (alert and allow)");
    }
  }
  if (auto b = c.integer_at(t, "agent_budget", sec, 1, (1ull << 44) - 1)) {
    if (!t.get("quota"))
      c.problem(*t.get("agent_budget"),
                sec + ": agent_budget counts per quota period; add a quota");
    l.agent_budget = *b;
  }
  const bool any = t.get("rate") || t.get("cost_rate") || t.get("concurrency") || t.get("quota");
  if (!any)
    c.problem(l.line, sec + ": a limit needs at least one of rate, cost_rate, concurrency, quota");
  out.limits.push_back(std::move(l));
}

// An array of tables under `key`, or a problem when the key holds anything else.
const toml::array* sections(checker& c, const toml::table& root, std::string_view key) {
  const toml::node* n = root.get(key);
  if (n == nullptr) return nullptr;
  const auto* arr = n->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    c.problem(*n, std::string(key) + " must be written [[" + std::string(key) + "]]");
    return nullptr;
  }
  return arr;
}

}  // namespace

parsed_policy parse_policy(std::string_view text, const std::string& name) {
  parsed_policy result;
  checker c(name);
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    result.errors.push_back(name + ":" + std::to_string(e.source().begin.line) + ": " +
                            std::string(e.description()));
    return result;
  }
  c.only_known(root, "the policy", {"rule", "limit"});
  policy p;
  std::set<std::string> rule_names;
  std::set<std::string> limit_names;
  if (const auto* rules = sections(c, root, "rule")) {
    for (std::size_t i = 0; i < rules->size(); ++i)
      check_rule(c, *(*rules)[i].as_table(), i, p, rule_names);
    if (rules->size() > max_rules)
      c.problem((*rules)[max_rules],
                "a policy holds at most " + std::to_string(max_rules) + " rules");
  }
  if (const auto* limits = sections(c, root, "limit")) {
    for (std::size_t i = 0; i < limits->size(); ++i)
      check_limit(c, *(*limits)[i].as_table(), i, p, limit_names);
    if (limits->size() > max_limits)
      c.problem((*limits)[max_limits],
                "a policy holds at most " + std::to_string(max_limits) + " limits");
  }
  result.errors = std::move(c.errors);
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [&name](const auto& a, const auto& b) {
                     const auto line = [&name](const std::string& e) {
                       return std::stoi(e.substr(name.size() + 1));
                     };
                     return line(a) < line(b);
                   });
  if (result.errors.empty()) result.value = std::move(p);
  return result;
}

parsed_policy load_policy(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    parsed_policy r;
    r.errors.push_back(file.string() + ": cannot be read (does it exist, and may you read it?)");
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_policy(text.str(), file.string());
}

}  // namespace sluice::governance
