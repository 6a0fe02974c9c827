// Two buses whose bridges live in two network namespaces joined by a veth pair, created by the
// test itself (needs root and iproute2's `ip`): the bridge crosses a real link between network
// stacks instead of loopback, and messages arrive in both directions. The buses themselves
// stay in this mount namespace, so the test reads and writes them directly.
#include <unistd.h>

#include <cstdlib>

#include "bridged_buses.hpp"
#include "inbox/inbox.hpp"
#include "support/skip.hpp"

using namespace sluice;
using sluice::test::eventually;
using sluice::test::link_of;

namespace {

int sh(const std::string& cmd) {
  return std::system((cmd + " >&2").c_str());
}

// Namespaces <base>-e / <base>-w with 10.231.7.1 / .2 on a veth pair; removed (with the veth)
// when the guard goes.
struct netns_pair {
  std::string east;
  std::string west;
  bool made = false;

  netns_pair() {
    const std::string base = "sluice-" + std::to_string(::getpid());
    east = base + "-e";
    west = base + "-w";
    const std::string ip = SLUICE_IP_EXE;
    made = sh(ip + " netns add " + east) == 0 && sh(ip + " netns add " + west) == 0 &&
           sh(ip + " link add name sl-e netns " + east + " type veth peer name sl-w netns " +
              west) == 0 &&
           sh(ip + " -n " + east + " addr add 10.231.7.1/24 dev sl-e") == 0 &&
           sh(ip + " -n " + west + " addr add 10.231.7.2/24 dev sl-w") == 0 &&
           sh(ip + " -n " + east + " link set sl-e up") == 0 &&
           sh(ip + " -n " + west + " link set sl-w up") == 0 &&
           sh(ip + " -n " + east + " link set lo up") == 0 &&
           sh(ip + " -n " + west + " link set lo up") == 0;
  }
  ~netns_pair() {
    const std::string ip = SLUICE_IP_EXE;
    (void)sh(ip + " netns del " + east + " 2>/dev/null");
    (void)sh(ip + " netns del " + west + " 2>/dev/null");
  }
  netns_pair(const netns_pair&) = delete;
  netns_pair& operator=(const netns_pair&) = delete;
};

// `ip netns exec NS sluice ...`: ip enters the namespace and execs sluice (same pid).
test::process::options in_netns(const std::string& ns, test::process::options o) {
  o.argv.insert(o.argv.begin(), {SLUICE_IP_EXE, "netns", "exec", ns});
  return o;
}

std::uint64_t size_of(const std::filesystem::path& dir, const std::string& agent) {
  auto in = inbox::inbox::open(dir, agent);
  return in ? in->size() : 0;
}

}  // namespace

TEST_CASE("bridges in two network namespaces joined by a veth pair carry messages both ways") {
  if (::geteuid() != 0)
    SLUICE_SKIP(
        "not root: network namespaces cannot be created (the loopback tests cover the bridge)");
  netns_pair ns;
  REQUIRE(ns.made);  // root with iproute2: creating them must work

  test::bus_fixture east;
  test::bus_fixture west;
  test::process east_bridge(in_netns(
      ns.east, east.options_for({"bridge", "--name", "east", "--listen", "10.231.7.1:0"})));
  const auto line = east_bridge.read_line(std::chrono::seconds(15));
  REQUIRE(line);
  const auto port = nlohmann::json::parse(*line).at("port").get<std::uint16_t>();
  test::process west_bridge(
      in_netns(ns.west, west.options_for({"bridge", "--name", "west", "--connect",
                                          "10.231.7.1:" + std::to_string(port)})));
  REQUIRE(eventually([&] {
    auto w = link_of(west, "east");
    auto e = link_of(east, "west");
    return w && e && w->state == "connected" && e->state == "connected";
  }));
  CHECK(link_of(west, "east")->endpoint == "10.231.7.1:" + std::to_string(port));

  REQUIRE(west.run({"send", "me", "far@east", "greet", "over veth"}).exit_code == 0);
  REQUIRE(east.run({"send", "you", "near@west", "greet", "and back"}).exit_code == 0);
  REQUIRE(eventually(
      [&] { return size_of(east.dir(), "far") == 1 && size_of(west.dir(), "near") == 1; }));
  const auto far = nlohmann::json::parse(east.run({"recv", "far"}).out);
  REQUIRE(far.size() == 1);
  CHECK(far[0]["from"] == "me");
  CHECK(far[0]["payload"] == "over veth");
  const auto near = nlohmann::json::parse(west.run({"recv", "near"}).out);
  REQUIRE(near.size() == 1);
  CHECK(near[0]["payload"] == "and back");

  for (auto* p : {&west_bridge, &east_bridge}) {
    p->signal(SIGTERM);
    CHECK(p->finish({}, std::chrono::seconds(10)).exit_code == 0);
  }
}
