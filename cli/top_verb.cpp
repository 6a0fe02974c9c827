// `sluice top`: a live view of every inbox on a bus (docs/architecture.md section 8): size, utilization,
// in/out rates, breaker state, active alerts, and the batch size and load from bus.ctl; below
// them one row per bridge link (state, credits, in-flight, sent, resent) from its status file.
// Refreshes every second on a terminal (q quits); prints one plain snapshot with --once or
// when stdout is not a terminal. Reads only: it never attaches as a consumer.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "backpressure/circuit_breaker.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/verb.hpp"
#include "inbox/inbox.hpp"
#include "actors/bridge/status.hpp"
#include "runtime/bus_control.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/config.hpp"
#include "runtime/stop_signals.hpp"

namespace sluice::cli {
namespace {

struct inbox_row {
  std::string agent;
  inbox::stats stats;
  std::string breaker = "-";
  std::string error;  // the inbox could not be opened (shown instead of numbers)
};

struct bus_view {
  std::filesystem::path dir;
  std::vector<inbox_row> rows;
  std::optional<runtime::rate_policy> policy;
  std::optional<runtime::load_reading> load;
  std::map<std::string, std::vector<std::string>> alerts;  // agent -> "severity type"
  std::vector<actors::bridge_link_status> bridges;        // from bridge-<peer>.json
  std::chrono::steady_clock::time_point at;
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
  constexpr std::streamoff tail_bytes = 256 * 1024;
  std::map<std::string, std::vector<std::string>> out;
  std::ifstream in(file, std::ios::binary);
  if (!in) return out;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(in.tellg());
  in.seekg(std::max<std::streamoff>(0, size - tail_bytes));
  std::string line;
  if (size > tail_bytes) std::getline(in, line);  // skip the partial first line
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
    latest[{str("type", "alert"), meta[key].get<std::string>()}] = {str("state", "firing"), str("severity", "warning"),
                                                                    one_off, parse_utc(str("timestamp", ""))};
  }
  const auto now = std::chrono::system_clock::now();
  for (const auto& [key, a] : latest) {
    if (a.state != "pending" && a.state != "firing") continue;
    if (a.one_off && now - a.when > std::chrono::minutes(5)) continue;
    out[key.second].push_back(a.severity + " " + key.first + (a.state == "pending" ? " (pending)" : ""));
  }
  return out;
}

const char* level_name(runtime::load_level level) {
  switch (level) {
    case runtime::load_level::low: return "low";
    case runtime::load_level::medium: return "medium";
    case runtime::load_level::high: return "high";
    default: return "unknown";
  }
}

// configured: the policy senders fall back to when no load monitor publishes one, so top
// shows what senders use now, not a stale publish.
bus_view collect(const std::filesystem::path& dir, const std::filesystem::path& alert_file,
                 const runtime::rate_policy& configured) {
  bus_view v;
  v.dir = dir;
  v.at = std::chrono::steady_clock::now();
  for (const auto& agent : runtime::list_agents(dir)) {
    inbox_row row;
    row.agent = agent;
    auto in = inbox::inbox::open(dir, agent);
    if (!in) {
      row.error = in.err().message;
    } else {
      row.stats = in->snapshot();
      row.breaker = backpressure::to_string(backpressure::inspect(in->breaker()).state);
    }
    v.rows.push_back(std::move(row));
  }
  if (auto ctl = runtime::bus_control::open(dir)) {
    v.policy = ctl->policy_now(configured);
    v.load = ctl->load();
  }
  v.alerts = active_alerts(alert_file);
  v.bridges = actors::read_bridge_statuses(dir);
  return v;
}

std::string bar(double fraction, int width) {
  const int filled = std::clamp(static_cast<int>(fraction * width + 0.5), 0, width);
  return "[" + std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(width - filled), '.') + "]";
}

double rate(std::uint64_t now, std::uint64_t before, double seconds) {
  return seconds > 0 && now >= before ? static_cast<double>(now - before) / seconds : 0;
}

// The whole screen as text; `prev` (the last refresh) gives the rates, `max_rows` limits
// the table to the terminal height (0: no limit).
std::string render(const bus_view& v, const bus_view* prev, std::size_t max_rows) {
  std::string s = fmt::format("sluice top  bus {}  inboxes {}\n", v.dir.string(), v.rows.size());
  if (v.policy) {
    s += fmt::format("batch size {}  backpressure wait {} ms", v.policy->batch_size, v.policy->backpressure_wait_ms);
  } else {
    s += "batch size -  backpressure wait -  (no bus.ctl: no load monitor has run)";
  }
  if (v.load && v.load->updated_ns != 0) {
    s += fmt::format("  load {:.2f} per cpu ({})", v.load->load_milli / 1000.0, level_name(v.load->level));
  }
  s += "\n\n";
  s += fmt::format("{:<24} {:>11} {:>5} {:<22} {:>9} {:>9} {:<9} {}\n", "AGENT", "SIZE/CAP", "UTIL", "", "IN/s",
                   "OUT/s", "BREAKER", "ALERTS");
  const double dt = prev ? std::chrono::duration<double>(v.at - prev->at).count() : 0;
  // Link rows (with their blank line and heading) come out of the same terminal height;
  // at least two lines stay for inboxes.
  const std::size_t link_rows = v.bridges.empty() ? 0 : v.bridges.size() + 2;
  const std::size_t inbox_rows =
      max_rows == 0 ? 0 : std::max<std::size_t>(2, max_rows > link_rows ? max_rows - link_rows : 0);
  std::size_t shown = 0;
  for (const auto& row : v.rows) {
    if (inbox_rows != 0 && shown + 1 >= inbox_rows && v.rows.size() > inbox_rows) {
      s += fmt::format("... {} more inboxes (enlarge the terminal)\n", v.rows.size() - shown);
      break;
    }
    ++shown;
    if (!row.error.empty()) {
      s += fmt::format("{:<24} {}\n", row.agent, row.error);
      continue;
    }
    const auto& st = row.stats;
    const double util = st.capacity == 0 ? 0 : static_cast<double>(st.size) / st.capacity;
    std::string in_rate = "-";
    std::string out_rate = "-";
    if (prev) {
      const auto it = std::find_if(prev->rows.begin(), prev->rows.end(), [&](const auto& r) { return r.agent == row.agent; });
      if (it != prev->rows.end() && it->error.empty()) {
        in_rate = fmt::format("{:.0f}", rate(st.enqueued, it->stats.enqueued, dt));
        out_rate = fmt::format("{:.0f}", rate(st.dequeued, it->stats.dequeued, dt));
      }
    }
    std::string alerts;
    if (const auto a = v.alerts.find(row.agent); a != v.alerts.end()) {
      for (const auto& text : a->second) alerts += (alerts.empty() ? "" : ", ") + text;
    }
    s += fmt::format("{:<24} {:>11} {:>4.0f}% {:<22} {:>9} {:>9} {:<9} {}\n", row.agent,
                     fmt::format("{}/{}", st.size, st.capacity), util * 100, bar(util, 20), in_rate, out_rate,
                     row.breaker, alerts);
  }
  if (v.rows.empty()) s += "(no inboxes on this bus)\n";
  // One row per bridge link (<this bridge>-><peer>), as its bridge last reported it.
  if (!v.bridges.empty()) {
    s += fmt::format("\n{:<24} {:<12} {:>9} {:>9} {:>12} {:>9} {}\n", "LINK", "STATE", "CREDITS",
                     "IN-FLIGHT", "SENT", "RESENT", "ENDPOINT");
    for (const auto& b : v.bridges) {
      s += fmt::format("{:<24} {:<12} {:>9} {:>9} {:>12} {:>9} {}\n", b.name + "->" + b.peer,
                       b.state, b.credits, b.in_flight, b.sent, b.resent, b.endpoint);
    }
  }
  // No trailing blanks (rows without alerts end in padding), so copied output stays clean.
  std::string trimmed;
  std::size_t start = 0;
  while (start < s.size()) {
    const std::size_t nl = s.find('\n', start);
    std::string row = s.substr(start, nl - start);
    row.erase(row.find_last_not_of(' ') + 1);
    trimmed += row + "\n";
    start = nl + 1;
  }
  return trimmed;
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


std::size_t terminal_rows() {
  winsize ws{};
  // The frame around the table rows: title, policy, blank, heading, then blank and "q quits"
  // (printed without a final newline, which would scroll the title off a full screen).
  constexpr unsigned short frame_lines = 6;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > frame_lines)
    return ws.ws_row - frame_lines;
  return 0;
}

int run_top(const global_options& globals, bool once, double interval_s) {
  auto where = runtime::resolve_bus({globals.dir, globals.bus});
  if (!where) throw cli_error{exit_code::bad_input, where.err().message};
  const auto dir = where->dir;
  runtime::config conf{dir};
  // An invalid ALERT_LOG_FILE is an error here as everywhere, not a quiet default.
  const std::filesystem::path alerts = take(conf.alert_log_file());
  const auto interval = std::chrono::duration<double>(std::max(0.1, interval_s));
  const auto configured = take(runtime::configured_policy(conf));

  if (once || isatty(STDOUT_FILENO) != 1) {
    // Two samples a quarter second apart, so the rates mean something in a one-shot view.
    const auto first = collect(dir, alerts, configured);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const auto second = collect(dir, alerts, configured);
    std::fputs(render(second, &first, 0).c_str(), stdout);
    return exit_code::ok;
  }

  runtime::stop_on_signals();
  bool quit = false;  // 'q' pressed
  raw_terminal term;
  std::optional<bus_view> prev;
  while (!quit && !runtime::stop_requested()) {
    auto view = collect(dir, alerts, configured);
    const std::string screen = render(view, prev ? &*prev : nullptr, terminal_rows());
    std::string frame = "\033[H\033[2J" + screen + "\nq quits";
    std::fputs(frame.c_str(), stdout);
    std::fflush(stdout);
    prev = std::move(view);
    // Waits for a key or the next refresh, whichever comes first.
    const auto deadline = std::chrono::steady_clock::now() + interval;
    while (!quit && !runtime::stop_requested()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) > 0) {
        char c = 0;
        const ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n == 0) break;  // stdin closed: keep refreshing on the timer
        if (n == 1 && (c == 'q' || c == 'Q')) quit = true;
      }
    }
  }
  return exit_code::ok;
}

}  // namespace

void add_top_verbs(CLI::App& app, cli_state& state) {
  auto once = std::make_shared<bool>(false);
  auto interval = std::make_shared<double>(1.0);
  auto* top = app.add_subcommand("top", "live view of every inbox on the bus (q quits)");
  top->add_flag("--once", *once, "print one plain snapshot and exit (also when stdout is not a terminal)");
  top->add_option("--interval", *interval, "seconds between refreshes (default 1)");
  top->callback([once, interval, &state] {
    state.action = [once, interval, &state] { return run_top(state.globals, *once, *interval); };
  });
}

}  // namespace sluice::cli
