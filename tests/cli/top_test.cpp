// `sluice top`: a plain one-shot table when stdout is not a terminal, and a live view in a
// real terminal (tmux at 80x24 and 200x50) that cuts its lines to the width instead of
// wrapping them, shows each inbox's consumer, the age of its oldest message, its rates and a
// totals row, sorts on a key, and quits on `q`.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/await.hpp"
#include "support/cli_checks.hpp"
#include "support/find_program.hpp"
#include "support/skip.hpp"

using namespace sluice::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// The screen's line that starts with `first` (an inbox name, INBOX, TOTAL), or "".
std::string line_starting(const std::string& screen, const std::string& first) {
  for (const auto& l : lines_of(screen)) {
    if (l.rfind(first + " ", 0) == 0) return l;
  }
  return {};
}

// The cell of a right-aligned column: the text in `row` that ends where `heading` ends in
// the heading line.
std::string cell(const std::string& screen, const std::string& row_name,
                 const std::string& heading) {
  const std::string head = line_starting(screen, "INBOX");
  const std::string row = line_starting(screen, row_name);
  const auto at = head.find(" " + heading);
  if (at == std::string::npos || row.empty()) return "?";
  const std::size_t end = at + 1 + heading.size();
  if (row.size() < end) return "?";
  std::size_t start = end;
  while (start > 0 && row[start - 1] != ' ') --start;
  return row.substr(start, end - start);
}

class tmux_session {
 public:
  tmux_session(const bus_fixture& bus, int width, int height, const std::string& args = "")
      : bus_(bus),
        socket_("sluice-top-test-" + std::to_string(getpid()) + "-" + std::to_string(width)) {
    exe_ = find_program("tmux");
    if (exe_.empty()) SLUICE_SKIP("tmux is not installed (scripts/setup.sh --with-tests)");
    const std::string cmd =
        std::string{sluice_path()} + " top --dir " + bus.dir().string() + " " + args;
    REQUIRE(run({"new-session", "-d", "-x", std::to_string(width), "-y", std::to_string(height),
                 "-s", "top", cmd})
                .exit_code == 0);
  }
  ~tmux_session() { run({"kill-server"}); }

  run_result run(std::vector<std::string> args) const {
    args.insert(args.begin(), {exe_, "-L", socket_});
    process::options opts{args, bus_.env};
    opts.env["TERM"] = "xterm-256color";
    process p{opts};
    return p.finish();
  }

  // The pane as the terminal shows it, wrapped lines joined (-J), so a line the program wrote
  // wider than the terminal comes back as one long line.
  std::string screen() const { return run({"capture-pane", "-p", "-J", "-t", "top"}).out; }

  // Awaits a screen for which cond holds (bounded); returns the last one seen.
  template <class Cond>
  std::string await_screen(Cond&& cond) const {
    std::string s;
    eventually(
        [&] {
          s = screen();
          return cond(s);
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50));
    return s;
  }

 private:
  const bus_fixture& bus_;
  std::string socket_;
  std::string exe_;
};

bool has(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

const std::string long_name(64, 'n');

}  // namespace

TEST_CASE("top without a terminal prints one plain snapshot of every inbox with a totals row") {
  bus_fixture bus;
  ok_out(bus, {"init", "alpha", "beta"});
  ok_out(bus, {"send", "alpha", "beta", "task", "hello"});
  const auto out = ok_out(bus, {"top"});
  INFO(out);
  for (const char* heading : {"INBOX", "CONSUMER", "SIZE/CAP", "UTIL", "AGE", "IN/s", "OUT/s",
                              "REJ/s", "WAIT/s", "BREAKER"}) {
    CHECK(has(line_starting(out, "INBOX"), heading));
  }
  CHECK(cell(out, "beta", "SIZE/CAP") == "1/1000");
  CHECK(cell(out, "alpha", "SIZE/CAP") == "0/1000");
  CHECK(cell(out, "TOTAL", "SIZE/CAP") == "1/2000");
  CHECK(has(line_starting(out, "TOTAL"), "0 of 2"));
  // Nothing waits in alpha; beta's message has waited a little.
  CHECK(cell(out, "alpha", "AGE") == "-");
  CHECK(cell(out, "beta", "AGE") != "-");
  CHECK(cell(out, "beta", "AGE").find_first_of("ms") != std::string::npos);
  CHECK(cell(out, "beta", "CONSUMER") == "-");
  CHECK(out.find("\033[") == std::string::npos);  // no terminal control sequences
}

TEST_CASE(
    "top shows an inbox's live consumer by pid and a consumer that died without letting go as "
    "dead") {
  bus_fixture bus;
  ok_out(bus, {"init", "alpha"});
  auto consumer = bus.start({"recv", "alpha", "--follow"});
  const std::string pid = std::to_string(consumer.pid());
  std::string out;
  REQUIRE(eventually([&] {
    out = ok_out(bus, {"top"});
    return cell(out, "alpha", "CONSUMER") == pid;
  }));
  CHECK(has(line_starting(out, "TOTAL"), "1 of 1"));
  consumer.signal(SIGKILL);
  CHECK(consumer.finish().exit_code ==
        128 + SIGKILL);  // reaped: a zombie would still count as alive
  REQUIRE(eventually([&] {
    out = ok_out(bus, {"top"});
    return has(line_starting(out, "alpha"), pid + " dead");
  }));
  CHECK(has(line_starting(out, "TOTAL"), "0 of 1"));
}

TEST_CASE("top counts refused sends and backpressure waits per second while they happen") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "1";
  ok_out(bus, {"init", "full"});
  ok_out(bus, {"send", "me", "full", "t", "first"});
  std::atomic<bool> done{false};
  // Senders into the full inbox: one refused at once (--no-wait), one backing off until its
  // short deadline; both fail, which is the point.
  std::thread senders([&] {
    while (!done.load()) {
      (void)bus.run({"send", "me", "full", "t", "x", "--no-wait"});
      (void)bus.run({"send", "me", "full", "t", "x", "--timeout", "50ms"});
    }
  });
  std::string out;
  const bool seen = eventually(
      [&] {
        out = ok_out(bus, {"top"});
        return cell(out, "full", "REJ/s") != "0" && cell(out, "full", "WAIT/s") != "0" &&
               cell(out, "TOTAL", "REJ/s") != "0";
      },
      std::chrono::seconds(60), std::chrono::milliseconds(10));
  done = true;
  senders.join();
  INFO(out);
  CHECK(seen);
  CHECK(cell(out, "full", "UTIL") == "100%");
}

TEST_CASE("top sorts the inboxes by the key asked for") {
  bus_fixture bus;
  ok_out(bus, {"init", "alpha", "beta", "gamma"});
  for (int i = 0; i < 3; ++i) ok_out(bus, {"send", "x", "beta", "t", "m"});
  for (int i = 0; i < 2; ++i) ok_out(bus, {"send", "x", "gamma", "t", "m"});
  ok_out(bus, {"send", "x", "alpha", "t", "m"});
  auto order = [&](const std::string& out) {
    std::vector<std::string> names;
    for (const auto& l : lines_of(out)) {
      for (const char* n : {"alpha", "beta", "gamma"}) {
        if (l.rfind(std::string{n} + " ", 0) == 0) names.push_back(n);
      }
    }
    return names;
  };
  CHECK(order(ok_out(bus, {"top"})) == std::vector<std::string>{"alpha", "beta", "gamma"});
  CHECK(order(ok_out(bus, {"top", "--sort", "size"})) ==
        std::vector<std::string>{"beta", "gamma", "alpha"});
  // alpha's message was sent last, beta's first: oldest first.
  CHECK(order(ok_out(bus, {"top", "--sort", "age"})) ==
        std::vector<std::string>{"beta", "gamma", "alpha"});
  const auto bad = bus.run({"top", "--sort", "colour"});
  CHECK(bad.exit_code == 65);
  CHECK(is_one_line(bad.err));
}

TEST_CASE(
    "top at 80x24 cuts every line to the width instead of wrapping, keeps the columns that matter, "
    "and sorts on a key") {
  bus_fixture bus;
  ok_out(bus, {"init", "alpha", "beta", long_name});
  ok_out(bus, {"send", "x", "beta", "t", "m"});
  ok_out(bus, {"send", "x", "beta", "t", "m"});
  ok_out(bus, {"send", "x", long_name, "t", "m"});
  tmux_session tmux(bus, 80, 24);
  auto screen =
      tmux.await_screen([](const std::string& s) { return has(s, "TOTAL") && has(s, "q quit"); });
  INFO(screen);
  for (const auto& l : lines_of(screen)) {
    INFO(l);
    CHECK(l.size() <= 80);
  }
  const auto head = line_starting(screen, "INBOX");
  for (const char* heading :
       {"CONSUMER", "SIZE/CAP", "UTIL", "AGE", "IN/s", "OUT/s", "REJ/s", "WAIT/s", "BREAKER"}) {
    CHECK(has(head, heading));
  }
  // The 64-character name is cut, marked with ~, and its row still shows its numbers.
  const auto long_row = line_starting(screen, long_name.substr(0, 15) + "~");
  CHECK(has(long_row, "1/1000"));
  CHECK(has(long_row, "closed"));
  CHECK(has(line_starting(screen, "TOTAL"), "3/3000"));
  CHECK(has(screen, "sorted by name"));

  REQUIRE(tmux.run({"send-keys", "-t", "top", "s"}).exit_code == 0);
  screen = tmux.await_screen([](const std::string& s) { return has(s, "sorted by size"); });
  const auto lines = lines_of(screen);
  const auto first_row = std::find_if(lines.begin(), lines.end(),
                                      [](const auto& l) { return l.rfind("INBOX", 0) == 0; });
  REQUIRE(first_row != lines.end());
  REQUIRE(first_row + 1 != lines.end());
  CHECK((first_row + 1)->rfind("beta ", 0) == 0);

  REQUIRE(tmux.run({"send-keys", "-t", "top", "q"}).exit_code == 0);
  CHECK(eventually(
      [&] {
        return tmux.run({"has-session", "-t", "top"}).exit_code != 0;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(50)));
}

TEST_CASE("top at 200x50 shows whole names and the alerts column") {
  bus_fixture bus;
  ok_out(bus, {"init", "alpha", long_name});
  // An active alert for alpha, as the overflow monitor writes it.
  std::ofstream(bus.dir() / "alerts.jsonl")
      << R"({"timestamp":"2026-01-01T00:00:00.000Z","type":"inbox_high_utilization","severity":"warning",)"
      << R"("state":"firing","message":"m","metadata":{"agent":"alpha"}})"
      << "\n";
  tmux_session tmux(bus, 200, 50);
  const auto screen =
      tmux.await_screen([](const std::string& s) { return has(s, "TOTAL") && has(s, "q quit"); });
  INFO(screen);
  for (const auto& l : lines_of(screen)) CHECK(l.size() <= 200);
  CHECK(has(line_starting(screen, "INBOX"), "ALERTS"));
  CHECK_FALSE(line_starting(screen, long_name).empty());
  CHECK(has(line_starting(screen, "alpha"), "warning inbox_high_utilization"));
}

TEST_CASE("top shows each alert type in the state its last line gives it") {
  bus_fixture bus;
  ok_out(bus, {"init", "alpha", "beta", "gamma"});
  // alpha escalated to overflow and de-escalated: the overflow alert is resolved, the
  // utilization warning still fires. beta is pending. gamma's alerts all resolved.
  std::ofstream log(bus.dir() / "alerts.jsonl");
  const auto line = [&](const char* type, const char* severity, const char* state,
                        const char* agent) {
    log << R"({"timestamp":"2026-01-01T00:00:00.000Z","type":")" << type << R"(","severity":")"
        << severity << R"(","state":")" << state << R"(","message":"m","metadata":{"agent":")"
        << agent << "\"}}\n";
  };
  line("inbox_high_utilization", "warning", "firing", "alpha");
  line("inbox_overflow", "critical", "firing", "alpha");
  line("inbox_overflow", "critical", "resolved", "alpha");
  line("inbox_high_utilization", "warning", "pending", "beta");
  line("inbox_high_utilization", "warning", "firing", "gamma");
  line("inbox_high_utilization", "warning", "resolved", "gamma");
  log.close();
  const auto screen = ok_out(bus, {"top", "--once", "--interval", "100ms"});
  INFO(screen);
  CHECK(has(line_starting(screen, "alpha"), "warning inbox_high_utilization"));
  CHECK_FALSE(has(line_starting(screen, "alpha"), "inbox_overflow"));
  CHECK(has(line_starting(screen, "beta"), "warning inbox_high_utilization (pending)"));
  CHECK_FALSE(has(line_starting(screen, "gamma"), "inbox_"));
}

TEST_CASE("top in a short terminal keeps the link rows and says how many inboxes it left out") {
  bus_fixture bus;
  std::vector<std::string> init = {"init"};
  for (int i = 0; i < 30; ++i) init.push_back("agent" + std::to_string(100 + i));
  ok_out(bus, init);
  // A link as its bridge reports it (bridge-east.json); no bridge needs to run for top.
  std::ofstream(bus.dir() / "bridge-east.json")
      << R"({"peer":"east","name":"west","state":"connected","endpoint":"127.0.0.1:7400",)"
      << R"("outbound":"bridge-east","credits":5,"in_flight":0,"sent":1,"resent":0})";
  tmux_session tmux(bus, 160, 16);
  const auto screen = tmux.await_screen([](const std::string& s) { return has(s, "q quit"); });
  INFO(screen);
  // The whole frame fits: neither the title above nor the totals, the link row and the key
  // line below were pushed off the screen.
  CHECK(has(screen, "sluice top"));
  CHECK(has(screen, "INBOX"));
  CHECK(has(screen, "TOTAL"));
  CHECK(has(screen, "west->east"));
  CHECK(has(screen, "q quit"));
  CHECK(has(screen, "more inboxes"));
  CHECK(has(screen, "agent100"));
  CHECK(lines_of(screen).size() <= 16);
}
