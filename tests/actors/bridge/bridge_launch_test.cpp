// A manifest's [bridge] section: `sluice launch` runs `sluice bridge` for its bus as a
// supervised process. A plain `sluice bridge` on a second bus connects to it; messages cross
// both before and after the launched bridge is SIGKILLed and restarted by its supervisor,
// and stopping launch removes the bus, bridge status files included. A launched bridge with
// [[bridge.peer]] tables connects to each of them (three buses).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bridged_buses.hpp"
#include "inbox/inbox.hpp"

using namespace sluice;
using sluice::test::eventually;
using sluice::test::link_of;

namespace {

std::uint64_t size_of(const std::filesystem::path& dir, const std::string& agent) {
  auto in = inbox::inbox::open(dir, agent);
  return in ? in->size() : 0;
}

// How many of the messages waiting in dir's inbox `agent` carry `payload`.
std::size_t count_of(const std::filesystem::path& dir, const std::string& agent,
                     const std::string& payload) {
  auto in = inbox::inbox::open(dir, agent);
  if (!in) return 0;
  const auto all = in->peek(64);
  return static_cast<std::size_t>(std::count_if(
      all.begin(), all.end(), [&](const inbox::message& m) { return m.payload == payload; }));
}

// A port below the kernel's ephemeral range that is free now; the manifest names a fixed port
// so the restarted bridge listens where the connecting side keeps dialling. Not a port from
// bind(0): the kernel hands ports of that range to every connect() and bind(0) of the tests
// running beside this one, and one of them could hold it when the bridge (re)binds.
std::uint16_t free_port() {
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  REQUIRE(ephemeral_low > 10000);
  std::random_device seed;
  std::uniform_int_distribution<int> pick(10000, ephemeral_low - 1);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(pick(seed)));
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (bound) return ntohs(addr.sin_port);
  }
  FAIL("no free port below " << ephemeral_low << " on 127.0.0.1 in 100 attempts");
  return 0;
}

// Everything that can say why a wait failed, for the failure message: each bus's bridge status
// files, then (stopping them) the output of launch, which carries its bridge's prefixed, and of
// the plain bridge processes.
using named_process = std::pair<std::string, test::process*>;
std::string explain(const std::vector<const test::bus_fixture*>& buses,
                    const std::vector<named_process>& processes) {
  std::string out;
  for (const auto* bus : buses) {
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(bus->dir(), ec)) {
      if (f.path().extension() == ".inbox") {
        const auto agent = f.path().stem().string();
        out += "--- " + f.path().string() + ": " + std::to_string(size_of(bus->dir(), agent)) +
               " waiting:";
        if (auto in = inbox::inbox::open(bus->dir(), agent))
          for (const auto& m : in->peek(16)) out += " '" + m.payload + "'";
        out += "\n";
        continue;
      }
      if (f.path().extension() != ".json") continue;
      std::ifstream in(f.path());
      out += "--- " + f.path().string() + "\n" +
             std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) +
             "\n";
    }
  }
  for (const auto& [name, p] : processes) {
    if (p == nullptr) continue;
    p->signal(SIGTERM);
    const auto r = p->finish({}, std::chrono::seconds(10));
    out += "--- " + name + " (exit " + std::to_string(r.exit_code) + ")\n" + r.out + r.err;
  }
  return out;
}

test::process* running(std::optional<test::process>& p) {
  return p ? &*p : nullptr;
}

#define REQUIRE_OR_EXPLAIN(cond, buses, processes)              \
  do {                                                          \
    if (!(cond)) FAIL(#cond "\n" << explain(buses, processes)); \
  } while (0)

}  // namespace

TEST_CASE("a launch manifest's [bridge] runs a supervised bridge that messages cross") {
  test::bridged_buses b;
  b.port = free_port();
  const auto manifest = b.east.root() / "bridge.toml";
  std::ofstream(manifest) << "[bridge]\nname = \"east\"\nlisten = \"127.0.0.1:" << b.port
                          << "\"\nrestart = \"on-failure\"\nrestart_backoff = \"50ms\"\n";
  test::process launch(b.east.options_for({"launch", manifest.string()}));
  b.start_west();
  const auto connected_to = [&](std::uint64_t not_pid) {
    return eventually(
        [&] {
          auto w = link_of(b.west, "east");
          auto e = link_of(b.east, "west");
          return w && e && w->state == "connected" && e->state == "connected" && e->pid != not_pid;
        },
        std::chrono::seconds(30));
  };
  const auto buses = std::vector<const test::bus_fixture*>{&b.east, &b.west};
  const auto processes = [&] {
    return std::vector<named_process>{{"launch", &launch}, {"west bridge", running(b.west_bridge)}};
  };
  REQUIRE_OR_EXPLAIN(connected_to(0), buses, processes());
  const auto first_pid = link_of(b.east, "west")->pid;
  CHECK(first_pid != static_cast<std::uint64_t>(launch.pid()));  // a child of launch

  REQUIRE(b.west.run({"send", "me", "far@east", "greet", "one"}).exit_code == 0);
  REQUIRE_OR_EXPLAIN(eventually([&] { return size_of(b.east.dir(), "far") == 1; }), buses,
                     processes());

  // The supervisor restarts a bridge that dies; the far side reconnects to it. Killed as soon
  // as "one" is in, east may not have acknowledged it yet: west then sends it again, and the
  // new east process, which never saw it, delivers it again (at-least-once; a crashed bridge
  // forgets what it delivered). So "one" is there at least once and "two" exactly once.
  REQUIRE(::kill(static_cast<pid_t>(first_pid), SIGKILL) == 0);
  REQUIRE_OR_EXPLAIN(connected_to(first_pid), buses, processes());
  REQUIRE(b.west.run({"send", "me", "far@east", "greet", "two"}).exit_code == 0);
  REQUIRE_OR_EXPLAIN(eventually([&] { return count_of(b.east.dir(), "far", "two") == 1; }), buses,
                     processes());
  CHECK(count_of(b.east.dir(), "far", "one") >= 1);
  CHECK(count_of(b.east.dir(), "far", "one") + 1 == size_of(b.east.dir(), "far"));

  b.stop();
  launch.signal(SIGTERM);
  const auto done = launch.finish({}, std::chrono::seconds(30));
  INFO(done.out + done.err);
  CHECK(done.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(b.east.dir()));  // bridge-west.json was no obstacle
}

TEST_CASE("a launched bridge with two [[bridge.peer]] tables links to both peers, by name") {
  test::bridged_buses b;  // east listens; its west side is the launched bridge's bus
  b.start_east();
  test::bus_fixture north_bus;
  test::process north(
      north_bus.options_for({"bridge", "--name", "north", "--listen", "127.0.0.1:0"}));
  const auto line = north.read_line(std::chrono::seconds(15));
  REQUIRE(line);
  const auto north_port = nlohmann::json::parse(*line).at("port").get<std::uint16_t>();
  const auto manifest = b.west.root() / "peers.toml";
  std::ofstream(manifest) << "[bridge]\nname = \"west\"\n"
                          << "[[bridge.peer]]\nconnect = \"127.0.0.1:" << b.port << "\"\n"
                          << "[[bridge.peer]]\nconnect = \"127.0.0.1:" << north_port << "\"\n";
  test::process launch(b.west.options_for({"launch", manifest.string()}));
  const auto buses = std::vector<const test::bus_fixture*>{&b.west, &b.east, &north_bus};
  const auto processes = [&] {
    return std::vector<named_process>{
        {"launch", &launch}, {"east bridge", running(b.east_bridge)}, {"north bridge", &north}};
  };
  REQUIRE_OR_EXPLAIN(eventually(
                         [&] {
                           auto e = link_of(b.west, "east");
                           auto n = link_of(b.west, "north");
                           return e && n && e->state == "connected" && n->state == "connected";
                         },
                         std::chrono::seconds(30)),
                     buses, processes());
  REQUIRE(b.west.run({"send", "me", "inbox@east", "t", "to east"}).exit_code == 0);
  REQUIRE(b.west.run({"send", "me", "inbox@north", "t", "to north"}).exit_code == 0);
  REQUIRE_OR_EXPLAIN(eventually([&] {
                       return size_of(b.east.dir(), "inbox") == 1 &&
                              size_of(north_bus.dir(), "inbox") == 1;
                     }),
                     buses, processes());
  launch.signal(SIGTERM);
  const auto done = launch.finish({}, std::chrono::seconds(30));
  INFO(done.out + done.err);
  CHECK(done.exit_code == 0);
  north.signal(SIGTERM);
  CHECK(north.finish({}, std::chrono::seconds(10)).exit_code == 0);
  b.stop();
}
