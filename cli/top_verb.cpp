// `sluice top`: a live view of every inbox on a bus (docs/architecture.md section 7): its
// consumer (pid, or dead), size, utilization, age of the oldest pending message, in, out,
// rejected and backpressure waits per second, breaker state and active alerts, a totals row,
// and the batch size and load from bus.ctl; below them one row per bridge link (state, credits,
// in-flight, sent, resent) from its status file. Per-inbox numbers come from the statistics
// table (runtime/inbox_stats.cpp); the age from inbox::oldest_sent_ns().
// Refreshes every second on a terminal (q quits, n s a i o r w sort); prints one plain
// snapshot with --once or when stdout is not a terminal. On a terminal every line is cut to
// its width, never wrapped; the columns that matter come first and fit 80 columns. Reads
// only: it never attaches as a consumer.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "backpressure/circuit_breaker.hpp"
#include "governance/clock.hpp"
#include "governance/report.hpp"
#include "governance/store.hpp"
#include "inbox/files/read_file.hpp"
#include "inbox/inbox.hpp"
#include "runtime/bridge_status.hpp"
#include "runtime/bus_control.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/config.hpp"
#include "runtime/duration.hpp"
#include "runtime/inbox_stats.hpp"
#include "runtime/stop_signals.hpp"

namespace sluice::cli {
namespace {

struct inbox_row {
  std::string agent;
  inbox::stats stats;
  std::optional<std::uint64_t> oldest_sent_ns;  // CLOCK_REALTIME; none when nothing is pending
  std::string breaker = "-";
  std::string error;  // the inbox could not be opened (shown instead of numbers)
};

struct bus_view {
  std::filesystem::path dir;
  std::vector<inbox_row> rows;
  std::optional<runtime::rate_policy> policy;
  std::optional<runtime::load_reading> load;
  std::map<std::string, std::vector<std::string>> alerts;  // agent -> "severity type"
  std::vector<runtime::bridge_link_status> bridges;        // from bridge-<peer>.json
  std::optional<governance::numbers> limits;               // from policy.ctl, when applied
  std::chrono::steady_clock::time_point at;
  std::uint64_t realtime_ns = 0;  // when it was read, to age the oldest messages
};

std::chrono::system_clock::time_point parse_utc(const std::string& ts) {
  std::tm tm{};
  if (strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// Active alerts: the last line per (type, agent) decides, and a resolved alert is gone. A
// failed send's alert (metadata names from and to) has no lifecycle: it counts as active for
// five minutes. Only the tail of the file is read, so a long history does not slow the refresh.
std::map<std::string, std::vector<std::string>> active_alerts(const std::filesystem::path& file) {
  constexpr std::size_t tail_bytes = 256 * 1024;
  std::map<std::string, std::vector<std::string>> out;
  const auto tail = inbox::read_file_tail(file, tail_bytes);
  if (tail.error != 0) return out;
  std::istringstream in(tail.text);
  std::string line;
  struct last {
    std::string state;
    std::string severity;
    bool one_off = false;
    std::chrono::system_clock::time_point when;
  };
  std::map<std::pair<std::string, std::string>, last> latest;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("metadata") || !j["metadata"].is_object()) continue;
    const auto& meta = j["metadata"];
    const bool one_off = meta.contains("from") && meta.contains("to");
    const char* key = meta.contains("agent") ? "agent" : "to";
    if (!meta.contains(key) || !meta[key].is_string()) continue;
    auto str = [&](const char* k, const char* fallback) {
      return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string{fallback};
    };
    latest[{str("type", "alert"), meta[key].get<std::string>()}] = {
        str("state", "firing"), str("severity", "warning"), one_off,
        parse_utc(str("timestamp", ""))};
  }
  const auto now = std::chrono::system_clock::now();
  for (const auto& [key, a] : latest) {
    if (a.state != "pending" && a.state != "firing") continue;
    if (a.one_off && now - a.when > std::chrono::minutes(5)) continue;
    out[key.second].push_back(a.severity + " " + key.first +
                              (a.state == "pending" ? " (pending)" : ""));
  }
  return out;
}

const char* level_name(runtime::load_level level) {
  switch (level) {
    case runtime::load_level::low:
      return "low";
    case runtime::load_level::medium:
      return "medium";
    case runtime::load_level::high:
      return "high";
    default:
      return "unknown";
  }
}

// configured: the policy senders fall back to when no load monitor publishes one, so top
// shows what senders use now, not a stale publish.
bus_view collect(const std::filesystem::path& dir, const std::filesystem::path& alert_file,
                 const runtime::rate_policy& configured) {
  bus_view v;
  v.dir = dir;
  v.at = std::chrono::steady_clock::now();
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  v.realtime_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
                  static_cast<std::uint64_t>(ts.tv_nsec);
  for (const auto& agent : runtime::list_agents(dir)) {
    inbox_row row;
    row.agent = agent;
    auto in = inbox::inbox::open(dir, agent);
    if (!in) {
      row.error = in.err().message;
    } else {
      row.stats = in->snapshot();
      row.oldest_sent_ns = in->oldest_sent_ns();
      row.breaker = backpressure::to_string(backpressure::inspect(in->breaker()).state);
    }
    v.rows.push_back(std::move(row));
  }
  if (auto ctl = runtime::bus_control::open(dir)) {
    v.policy = ctl->policy_now(configured);
    v.load = ctl->load();
  }
  v.alerts = active_alerts(alert_file);
  v.bridges = runtime::read_bridge_statuses(dir);
  if (std::filesystem::exists(dir / governance::policy_file_name)) {
    if (auto st = governance::store::open(dir)) {
      auto p = st.value().current();
      if (p && p.value() != nullptr)
        v.limits = governance::snapshot(st.value().raw(), *p.value(), governance::realtime_ns());
    }
  }
  return v;
}

// A per-inbox statistic by its key in the one table (runtime/inbox_stats.cpp).
double stat(const inbox::stats& s, std::string_view key) {
  for (std::size_t i = 0; i < runtime::inbox_stat_count; ++i) {
    const auto& row = runtime::inbox_stat_table[i];
    if (key == row.key) return row.value(s);
  }
  return 0;
}

double rate(double now, double before, double seconds) {
  return seconds > 0 && now >= before ? (now - before) / seconds : 0;
}

// Five characters at most: 999, 1.23k, 12.3k, 123k, 1.23M.
std::string per_second(double v) {
  if (v < 999.5) return fmt::format("{:.0f}", v);
  const char* units[] = {"k", "M", "G"};
  std::size_t u = 0;
  v /= 1000;
  while (v >= 999.5 && u + 1 < std::size(units)) {
    v /= 1000;
    ++u;
  }
  return fmt::format(v < 9.995 ? "{:.2f}{}" : v < 99.95 ? "{:.1f}{}" : "{:.0f}{}", v, units[u]);
}

// How long the oldest pending message has waited: 850ms, 12.3s, 12m03s, 5h07m, 3d.
std::string age(std::uint64_t ns) {
  const double s = static_cast<double>(ns) / 1e9;
  if (s < 1) return fmt::format("{:.0f}ms", s * 1000);
  if (s < 9.95) return fmt::format("{:.2f}s", s);
  if (s < 59.95) return fmt::format("{:.1f}s", s);
  const auto whole = static_cast<std::uint64_t>(s);
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  if (whole < 100 * 3600) return fmt::format("{}h{:02}m", whole / 3600, whole / 60 % 60);
  return fmt::format("{}d", whole / 86400);
}

// The ways to sort the inbox rows: the key pressed in the live view, the --sort name, and
// the order (numbers largest first, names alphabetically).
struct sort_key {
  char key;
  const char* name;
};
constexpr sort_key sort_keys[] = {{'n', "name"}, {'s', "size"},     {'a', "age"},  {'i', "in"},
                                  {'o', "out"},  {'r', "rejected"}, {'w', "waits"}};

const sort_key* find_sort(std::string_view name_or_key) {
  for (const auto& k : sort_keys) {
    if (name_or_key == k.name || (name_or_key.size() == 1 && name_or_key[0] == k.key)) return &k;
  }
  return nullptr;
}

// A row's figures as numbers (for sorting and totals) and as cells (for the table).
struct row_figures {
  double size = 0, capacity = 0, regular = 0, in = 0, out = 0, rejected = 0, waits = 0;
  std::optional<std::uint64_t> age_ns;
  bool live_consumer = false;
  bool has_rates = false;
};

row_figures figures_of(const bus_view& v, const bus_view* prev, const inbox_row& row) {
  row_figures f;
  if (!row.error.empty()) return f;
  const auto& st = row.stats;
  f.size = stat(st, "size");
  f.capacity = stat(st, "max_size");
  f.regular = f.size - std::min(f.size, stat(st, "critical_size"));
  f.live_consumer = stat(st, "consumer_pid") != 0;
  if (row.oldest_sent_ns)
    f.age_ns = v.realtime_ns > *row.oldest_sent_ns ? v.realtime_ns - *row.oldest_sent_ns : 0;
  if (prev) {
    const auto it = std::find_if(prev->rows.begin(), prev->rows.end(),
                                 [&](const auto& r) { return r.agent == row.agent; });
    if (it != prev->rows.end() && it->error.empty()) {
      const double dt = std::chrono::duration<double>(v.at - prev->at).count();
      f.in = rate(stat(st, "enqueued"), stat(it->stats, "enqueued"), dt);
      f.out = rate(stat(st, "dequeued"), stat(it->stats, "dequeued"), dt);
      f.rejected = rate(stat(st, "rejected_full"), stat(it->stats, "rejected_full"), dt);
      f.waits = rate(stat(st, "backpressure_waits"), stat(it->stats, "backpressure_waits"), dt);
      f.has_rates = true;
    }
  }
  return f;
}

std::string consumer_cell(const inbox::stats& st) {
  const auto live = static_cast<std::int64_t>(stat(st, "consumer_pid"));
  if (live != 0) return std::to_string(live);
  const auto recorded = static_cast<std::int64_t>(stat(st, "recorded_consumer_pid"));
  // A pid recorded but not alive: the consumer died without letting go.
  return recorded != 0 ? std::to_string(recorded) + " dead" : "-";
}

// Cuts a line to `width` columns (0: no limit). Names and paths may hold UTF-8, so the cut
// never splits a character; one code point is taken as one column.
std::string cut(const std::string& line, std::size_t width) {
  if (width == 0) return line;
  std::size_t columns = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
    if (columns == width) return line.substr(0, i);
    ++columns;
  }
  return line;
}

// A table whose column widths fit its widest cell; the first column is left-aligned and may
// be capped (a longer cell ends in '~'), the others are right-aligned except the last two.
struct table {
  std::vector<std::string> headings;
  std::vector<std::vector<std::string>> rows;
  std::size_t left_aligned_from = 0;  // columns from here on are left-aligned
  std::size_t first_cap = 0;          // 0: no cap

  std::vector<std::string> lines() const {
    std::vector<std::size_t> widths(headings.size(), 0);
    for (std::size_t c = 0; c < headings.size(); ++c) widths[c] = headings[c].size();
    for (const auto& r : rows) {
      for (std::size_t c = 0; c < r.size() && c < widths.size(); ++c)
        widths[c] = std::max(widths[c], r[c].size());
    }
    if (first_cap != 0) widths[0] = std::min(widths[0], std::max(first_cap, headings[0].size()));
    auto line = [&](const std::vector<std::string>& cells) {
      std::string out;
      for (std::size_t c = 0; c < cells.size() && c < widths.size(); ++c) {
        std::string cell = cells[c];
        if (c == 0 && cell.size() > widths[0]) cell = cell.substr(0, widths[0] - 1) + "~";
        if (c != 0) out += ' ';
        const bool left = c == 0 || c >= left_aligned_from;
        out +=
            left ? fmt::format("{:<{}}", cell, widths[c]) : fmt::format("{:>{}}", cell, widths[c]);
      }
      out.erase(out.find_last_not_of(' ') + 1);
      return out;
    };
    std::vector<std::string> out{line(headings)};
    for (const auto& r : rows) out.push_back(line(r));
    return out;
  }
};

// The bus policy (governance/): a LIMITS section between the inboxes and the links, one line
// per rule (decisions so far) and per named limit (acquires, leases held, quota used).
std::vector<std::string> limits_section(const bus_view& v) {
  if (!v.limits || (v.limits->rules.empty() && v.limits->limits.empty())) return {};
  table t;
  t.headings = {"LIMITS", "ALLOWED", "DENIED", "DEMOTED", "LOGGED", "LEASES", "QUOTA"};
  t.first_cap = 24;
  for (const auto& r : v.limits->rules)
    t.rows.push_back({"rule " + r.name, std::to_string(r.allowed), std::to_string(r.denied),
                      std::to_string(r.demoted), std::to_string(r.logged), "-", "-"});
  for (const auto& l : v.limits->limits) {
    const std::string quota = l.has_quota ? fmt::format("{}/{} {}%", l.quota_used, l.quota_limit,
                                                        l.quota_used * 100 / l.quota_limit)
                                          : "-";
    t.rows.push_back({"limit " + l.name, std::to_string(l.granted), std::to_string(l.refused), "-",
                      "-", std::to_string(l.holders), quota});
  }
  std::vector<std::string> out{""};
  for (auto& line : t.lines()) out.push_back(std::move(line));
  return out;
}

struct screen_options {
  std::size_t width = 0;     // columns; 0: no limit (plain output)
  std::size_t max_rows = 0;  // lines for the inbox rows and what follows; 0: no limit
  const sort_key* sort = &sort_keys[0];
};

// The whole screen as text; `prev` (the last refresh) gives the rates.
std::string render(const bus_view& v, const bus_view* prev, const screen_options& opt) {
  std::vector<std::string> out;
  out.push_back(fmt::format("sluice top  {} inboxes  sorted by {}  bus {}", v.rows.size(),
                            opt.sort->name, v.dir.string()));
  std::string policy;
  if (v.policy) {
    policy = fmt::format("batch size {}  backpressure wait {} ms", v.policy->batch_size,
                         v.policy->backpressure_wait_ms);
  } else {
    policy = "batch size -  backpressure wait -  (no bus.ctl: no load monitor has run)";
  }
  if (v.load && v.load->updated_ns != 0) {
    policy += fmt::format("  load {:.2f} per cpu ({})", v.load->load_milli / 1000.0,
                          level_name(v.load->level));
  }
  out.push_back(policy);
  out.emplace_back();

  // Rows in the chosen order.
  std::vector<std::pair<const inbox_row*, row_figures>> rows;
  for (const auto& row : v.rows) rows.emplace_back(&row, figures_of(v, prev, row));
  auto number = [&](const row_figures& f) -> double {
    switch (opt.sort->key) {
      case 's':
        return f.size;
      case 'a':
        return f.age_ns ? static_cast<double>(*f.age_ns) : -1.0;
      case 'i':
        return f.in;
      case 'o':
        return f.out;
      case 'r':
        return f.rejected;
      case 'w':
        return f.waits;
      default:
        return 0;
    }
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    if (opt.sort->key == 'n') return a.first->agent < b.first->agent;
    return number(a.second) > number(b.second);
  });

  table t;
  t.headings = {"INBOX", "CONSUMER", "SIZE/CAP", "UTIL",    "AGE",   "IN/s",
                "OUT/s", "REJ/s",    "WAIT/s",   "BREAKER", "ALERTS"};
  t.left_aligned_from = 9;
  // At 80 columns the name gets 16 and everything up to BREAKER still fits.
  t.first_cap = opt.width == 0 ? 0 : std::max<std::size_t>(16, opt.width > 64 ? opt.width - 64 : 0);
  row_figures total;
  std::size_t consumers = 0;
  std::size_t open_breakers = 0;
  bool rates = false;
  for (const auto& [row, f] : rows) {
    if (!row->error.empty()) {
      t.rows.push_back({row->agent, row->error});
      continue;
    }
    std::string alerts;
    if (const auto a = v.alerts.find(row->agent); a != v.alerts.end()) {
      for (const auto& text : a->second) alerts += (alerts.empty() ? "" : ", ") + text;
    }
    const double util = runtime::utilization_percent(row->stats);
    // A lambda may not capture a structured binding in C++17 (clang refuses), so copy the flag.
    auto r = [has_rates = f.has_rates](double x) {
      return has_rates ? per_second(x) : std::string{"-"};
    };
    t.rows.push_back({row->agent, consumer_cell(row->stats),
                      fmt::format("{:.0f}/{:.0f}", f.size, f.capacity),
                      fmt::format("{:.0f}%", std::floor(util)), f.age_ns ? age(*f.age_ns) : "-",
                      r(f.in), r(f.out), r(f.rejected), r(f.waits), row->breaker, alerts});
    total.size += f.size;
    total.capacity += f.capacity;
    total.regular += f.regular;
    total.in += f.in;
    total.out += f.out;
    total.rejected += f.rejected;
    total.waits += f.waits;
    rates = rates || f.has_rates;
    if (f.age_ns) total.age_ns = std::max(total.age_ns.value_or(0), *f.age_ns);
    consumers += f.live_consumer ? 1 : 0;
    open_breakers += row->breaker != "closed" ? 1 : 0;
  }
  const std::size_t inbox_count = t.rows.size();
  if (!v.rows.empty()) {
    auto r = [&](double x) { return rates ? per_second(x) : std::string{"-"}; };
    const double util =
        total.capacity == 0 ? 0 : std::min(100.0, total.regular * 100.0 / total.capacity);
    t.rows.push_back({"TOTAL", fmt::format("{} of {}", consumers, v.rows.size()),
                      fmt::format("{:.0f}/{:.0f}", total.size, total.capacity),
                      fmt::format("{:.0f}%", std::floor(util)),
                      total.age_ns ? age(*total.age_ns) : "-", r(total.in), r(total.out),
                      r(total.rejected), r(total.waits),
                      open_breakers == 0 ? "" : fmt::format("{} not closed", open_breakers), ""});
  }
  auto lines = t.lines();

  std::vector<std::string> after;  // below the inbox rows: limits, then links
  for (auto& l : limits_section(v)) after.push_back(std::move(l));
  if (!v.bridges.empty()) {
    table links;
    links.headings = {"LINK", "STATE", "CREDITS", "IN-FLIGHT", "SENT", "RESENT", "ENDPOINT"};
    links.left_aligned_from = 6;
    for (const auto& b : v.bridges) {
      links.rows.push_back({b.name + "->" + b.peer, b.state, std::to_string(b.credits),
                            std::to_string(b.in_flight), std::to_string(b.sent),
                            std::to_string(b.resent), b.endpoint});
    }
    after.emplace_back();
    for (auto& l : links.lines()) after.push_back(std::move(l));
  }

  out.push_back(lines.front());  // the heading
  // The inbox rows share the height with the totals and what follows; at least two stay.
  const std::size_t budget =
      opt.max_rows == 0
          ? 0
          : std::max<std::size_t>(
                2, opt.max_rows > after.size() + 2 ? opt.max_rows - after.size() - 1 : 0);
  std::size_t shown = 0;
  for (std::size_t i = 1; i <= inbox_count; ++i) {
    if (budget != 0 && shown + 1 >= budget && inbox_count > budget) {
      out.push_back(fmt::format("... {} more inboxes (enlarge the terminal)", inbox_count - shown));
      break;
    }
    out.push_back(lines[i]);
    ++shown;
  }
  if (v.rows.empty())
    out.emplace_back("(no inboxes on this bus)");
  else
    out.push_back(lines.back());  // TOTAL
  for (auto& l : after) out.push_back(std::move(l));

  std::string text;
  for (const auto& l : out) text += cut(l, opt.width) + "\n";
  return text;
}

// Puts the terminal in non-canonical, no-echo mode for single-key input; restores it after.
class raw_terminal {
 public:
  raw_terminal() {
    if (tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    std::fputs("\033[?1049h\033[?25l", stdout);  // alternate screen, hide cursor
  }
  ~raw_terminal() {
    std::fputs("\033[?25h\033[?1049l", stdout);
    std::fflush(stdout);
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

struct terminal_size {
  std::size_t rows = 0;  // for the table rows and what follows; 0: unknown
  std::size_t columns = 0;
};

terminal_size terminal() {
  winsize ws{};
  // The frame around the table rows: title, policy, blank, heading, then blank and the key
  // line (printed without a final newline, which would scroll the title off a full screen).
  constexpr unsigned short frame_lines = 6;
  terminal_size t;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    if (ws.ws_row > frame_lines) t.rows = ws.ws_row - frame_lines;
    t.columns = ws.ws_col;
  }
  return t;
}

int run_top(const global_options& globals, bool once, const std::string& interval_text,
            const std::string& sort_name) {
  const sort_key* sort = find_sort(sort_name);
  if (sort == nullptr) {
    throw cli_error{
        exit_code::bad_input,
        "--sort wants one of name, size, age, in, out, rejected, waits, not '" + sort_name + "'"};
  }
  // Faster than 100 ms would only burn the CPU it is meant to watch.
  const auto interval = std::max<std::chrono::nanoseconds>(
      std::chrono::milliseconds(100), take(runtime::parse_duration(interval_text, "--interval")));
  auto where = runtime::resolve_bus({globals.dir, globals.bus});
  if (!where) throw cli_error{exit_code::bad_input, where.err().message};
  const auto dir = where->dir;
  runtime::config conf{dir};
  // An invalid ALERT_LOG_FILE is an error here as everywhere, not a quiet default.
  const std::filesystem::path alerts = take(conf.alert_log_file());
  const auto configured = take(runtime::configured_policy(conf));

  if (once || isatty(STDOUT_FILENO) != 1) {
    // Two samples a quarter second apart, so the rates mean something in a one-shot view.
    const auto first = collect(dir, alerts, configured);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const auto second = collect(dir, alerts, configured);
    screen_options plain;
    plain.sort = sort;
    std::fputs(render(second, &first, plain).c_str(), stdout);
    return exit_code::ok;
  }

  runtime::stop_on_signals();
  bool quit = false;  // 'q' pressed
  raw_terminal term;
  std::optional<bus_view> prev;
  std::optional<bus_view> view;
  bool fresh = true;  // false: only the order changed, redraw the same data
  while (!quit && !runtime::stop_requested()) {
    if (fresh) {
      if (view) prev = std::move(view);
      view = collect(dir, alerts, configured);
    }
    const auto size = terminal();
    screen_options opt{size.columns, size.rows, sort};
    const std::string screen = render(*view, prev ? &*prev : nullptr, opt);
    std::string frame =
        "\033[H\033[2J" + screen + "\n" +
        cut("q quit  sort: n name  s size  a age  i in  o out  r rejected  w waits", size.columns);
    std::fputs(frame.c_str(), stdout);
    std::fflush(stdout);
    fresh = true;
    // Waits for a key or the next refresh, whichever comes first.
    const auto deadline = std::chrono::steady_clock::now() + interval;
    while (!quit && !runtime::stop_requested()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) > 0) {
        char c = 0;
        const ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n == 0) break;  // stdin closed: keep refreshing on the timer
        if (n == 1 && (c == 'q' || c == 'Q')) quit = true;
        if (n == 1) {
          if (const sort_key* k = find_sort(std::string_view{&c, 1})) {
            sort = k;
            fresh = false;  // redraw at once in the new order
            break;
          }
        }
      }
    }
  }
  return exit_code::ok;
}

}  // namespace

void add_top_verbs(CLI::App& app, cli_state& state) {
  auto once = std::make_shared<bool>(false);
  auto interval = std::make_shared<std::string>("1s");
  auto sort = std::make_shared<std::string>("name");
  auto* top = app.add_subcommand("top", "live view of every inbox on the bus (q quits)");
  top->add_flag("--once", *once,
                "print one plain snapshot and exit (also when stdout is not a terminal)");
  top->add_option("--interval", *interval,
                  "DURATION between refreshes (default 1s; at least 100ms)");
  top->add_option("--sort", *sort,
                  "order of the inboxes: name, size, age, in, out, rejected, waits (keys n s a i o "
                  "r w in the live view)");
  top->callback([once, interval, sort, &state] {
    state.action = [once, interval, sort, &state] {
      return run_top(state.globals, *once, *interval, *sort);
    };
  });
}

}  // namespace sluice::cli
