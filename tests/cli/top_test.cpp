// `sluice top`: a plain one-shot table when stdout is not a terminal, and a live view in a
// real terminal (tmux) that shows every inbox and quits on `q`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "support/cli_checks.hpp"

using namespace sluice::test;

namespace {

// tmux from PATH (the test's process helper execs a path, it does not search).
std::string tmux_path() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto colon = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, colon - start) + "/tmux";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return "/usr/bin/tmux";
}

run_result tmux(const bus_fixture& bus, const std::string& socket, std::vector<std::string> args) {
  args.insert(args.begin(), {tmux_path(), "-L", socket});
  process::options opts{args, bus.env};
  opts.env["TERM"] = "xterm-256color";
  process p{opts};
  return p.finish();
}

}  // namespace

TEST_CASE("top without a terminal prints one plain snapshot of every inbox") {
  bus_fixture bus;
  ok_out(bus, {"init", "alpha", "beta"});
  ok_out(bus, {"send", "alpha", "beta", "task", "hello"});
  const auto out = ok_out(bus, {"top"});
  INFO(out);
  REQUIRE(out.find("AGENT") != std::string::npos);
  REQUIRE(out.find("alpha") != std::string::npos);
  REQUIRE(out.find("beta") != std::string::npos);
  REQUIRE(out.find("1/1000") != std::string::npos);
  REQUIRE(out.find("\033[") == std::string::npos);  // no terminal control sequences
}

TEST_CASE("top in a terminal shows the inbox rows and quits on q") {
  bus_fixture bus;
  ok_out(bus, {"init", "alpha", "beta"});
  const std::string socket = "sluice-top-test-" + std::to_string(getpid());
  const std::string cmd = std::string{sluice_path()} + " top --dir " + bus.dir().string();
  REQUIRE(tmux(bus, socket, {"new-session", "-d", "-x", "160", "-y", "40", "-s", "top", cmd}).exit_code == 0);

  // Await the first frame (bounded): the pane shows both inboxes.
  std::string screen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    screen = tmux(bus, socket, {"capture-pane", "-p", "-t", "top"}).out;
    if (screen.find("alpha") != std::string::npos && screen.find("beta") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(screen);
  REQUIRE(screen.find("AGENT") != std::string::npos);
  REQUIRE(screen.find("alpha") != std::string::npos);
  REQUIRE(screen.find("beta") != std::string::npos);
  REQUIRE(screen.find("q quits") != std::string::npos);

  REQUIRE(tmux(bus, socket, {"send-keys", "-t", "top", "q"}).exit_code == 0);
  // The session ends when top exits.
  bool gone = false;
  const auto quit_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!gone && std::chrono::steady_clock::now() < quit_deadline) {
    gone = tmux(bus, socket, {"has-session", "-t", "top"}).exit_code != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  tmux(bus, socket, {"kill-server"});
  REQUIRE(gone);
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
  const std::string socket = "sluice-top-short-" + std::to_string(getpid());
  const std::string cmd = std::string{sluice_path()} + " top --dir " + bus.dir().string();
  const int height = 16;
  REQUIRE(tmux(bus, socket,
               {"new-session", "-d", "-x", "160", "-y", std::to_string(height), "-s", "top", cmd})
              .exit_code == 0);
  std::string screen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    screen = tmux(bus, socket, {"capture-pane", "-p", "-t", "top"}).out;
    if (screen.find("q quits") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  tmux(bus, socket, {"kill-server"});
  INFO(screen);
  // The whole frame fits: neither the title above nor the link row and quit hint below were
  // pushed off the screen.
  CHECK(screen.find("sluice top") != std::string::npos);
  CHECK(screen.find("AGENT") != std::string::npos);
  CHECK(screen.find("west->east") != std::string::npos);
  CHECK(screen.find("q quits") != std::string::npos);
  CHECK(screen.find("more inboxes") != std::string::npos);
  CHECK(screen.find("agent100") != std::string::npos);
}
