// One bridge joined to several: a bridge that connects to two listeners (--connect twice), and
// a listener that several bridges connect to, with three buses each. Each link has its own
// status row and credits, agent@name reaches the bus of the bridge called name, and a full
// inbox behind one peer does not hold up another.
#include <signal.h>

#include <optional>

#include "backpressure/address.hpp"
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

std::vector<std::string> payloads(const test::bus_fixture& bus, const std::string& agent) {
  const auto r = bus.run({"recv", agent});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  for (const auto& m : nlohmann::json::parse(r.out)) out.push_back(m["payload"]);
  return out;
}

// A bus with its bridge process.
struct node {
  std::string name;
  test::bus_fixture bus;
  std::optional<test::process> bridge;
  std::uint16_t port = 0;

  explicit node(std::string n) : name(std::move(n)) {}

  void start(const std::vector<std::string>& extra, bool listens) {
    std::vector<std::string> args{"bridge", "--name", name};
    if (listens) args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    args.insert(args.end(), extra.begin(), extra.end());
    bridge.emplace(bus.options_for(args));
    if (!listens) return;
    const auto line = bridge->read_line(std::chrono::seconds(15));
    REQUIRE(line);
    port = nlohmann::json::parse(*line).at("port").get<std::uint16_t>();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  bool connected_to(const std::string& peer) const {
    auto s = link_of(bus, peer);
    return s && s->state == "connected" && s->pid == static_cast<std::uint64_t>(bridge->pid());
  }
  void stop() {
    bridge->signal(SIGTERM);
    CHECK(bridge->finish({}, std::chrono::seconds(10)).exit_code == 0);
    bridge.reset();
  }
};

}  // namespace

TEST_CASE(
    "a bridge that connects to two listeners reaches each by name, with a status row and "
    "credits per link") {
  node east("east"), north("north"), west("west");
  east.start({}, true);
  north.start({}, true);
  west.start({"--connect", east.address(), "--connect", north.address()}, false);
  REQUIRE(eventually([&] {
    return west.connected_to("east") && west.connected_to("north") && east.connected_to("west") &&
           north.connected_to("west");
  }));
  REQUIRE(west.bus.run({"send", "me", "inbox@east", "t", "to east"}).exit_code == 0);
  REQUIRE(west.bus.run({"send", "me", "inbox@north", "t", "to north"}).exit_code == 0);
  REQUIRE(east.bus.run({"send", "e", "back@west", "t", "from east"}).exit_code == 0);
  REQUIRE(north.bus.run({"send", "n", "back@west", "t", "from north"}).exit_code == 0);
  REQUIRE(eventually([&] {
    return size_of(east.bus.dir(), "inbox") == 1 && size_of(north.bus.dir(), "inbox") == 1 &&
           size_of(west.bus.dir(), "back") == 2;
  }));
  CHECK(payloads(east.bus, "inbox") == std::vector<std::string>{"to east"});
  CHECK(payloads(north.bus, "inbox") == std::vector<std::string>{"to north"});
  auto back = payloads(west.bus, "back");
  std::sort(back.begin(), back.end());
  CHECK(back == std::vector<std::string>{"from east", "from north"});
  // One row per link, each with its own counters and credit.
  REQUIRE(eventually([&] {
    auto e = link_of(west.bus, "east");
    auto n = link_of(west.bus, "north");
    return e && n && e->sent == 1 && n->sent == 1 && e->acked == 1 && n->acked == 1 &&
           e->credits > 0 && n->credits > 0;
  }));
  CHECK(link_of(west.bus, "east")->endpoint == east.address());
  CHECK(link_of(west.bus, "north")->endpoint == north.address());
  const auto top = west.bus.run({"top", "--once"});
  CHECK(top.out.find("east") != std::string::npos);
  CHECK(top.out.find("north") != std::string::npos);
  west.stop();
  north.stop();
  east.stop();
}

TEST_CASE(
    "a listening bridge accepts several peers, and a full inbox behind one of them does not hold "
    "up "
    "the other") {
  node east("east"), west("west"), north("north");
  north.bus.env["MAX_INBOX_SIZE"] = "4";  // nobody consumes `stuck` there
  east.start({}, true);
  west.start({"--connect", east.address()}, false);
  north.start({"--connect", east.address()}, false);
  REQUIRE(eventually([&] {
    return east.connected_to("west") && east.connected_to("north") && west.connected_to("east") &&
           north.connected_to("east");
  }));
  // Twenty messages for north fill its inbox (4) and the rest wait on east; meanwhile
  // everything for west arrives.
  auto to_north = inbox::inbox::open_or_create(east.bus.dir(), "bridge-north");
  auto to_west = inbox::inbox::open_or_create(east.bus.dir(), "bridge-west");
  REQUIRE(to_north);
  REQUIRE(to_west);
  for (int i = 0; i < 20; ++i) {
    const auto p = backpressure::wrap_envelope("stuck", "n" + std::to_string(i));
    REQUIRE(to_north->try_push({"me", "t", p}) == inbox::push_result::ok);
  }
  std::vector<std::string> want;
  for (int i = 0; i < 300; ++i) {
    want.push_back("w" + std::to_string(i));
    const auto p = backpressure::wrap_envelope("open", want.back());
    REQUIRE(to_west->try_push({"me", "t", p}) == inbox::push_result::ok);
  }
  std::vector<std::string> got;
  REQUIRE(eventually([&] {
    for (auto& p : payloads(west.bus, "open")) got.push_back(p);
    return got.size() >= want.size();
  }));
  CHECK(got == want);
  CHECK(eventually([&] { return size_of(north.bus.dir(), "stuck") == 4; }));
  // The other 16 wait on east: in the holding inbox when more for north waited behind their
  // batch, else still in bridge-north, whose uncommitted batch also counts the 4 delivered.
  CHECK(eventually([&] {
    auto s = link_of(east.bus, "north");
    return s && s->held + size_of(east.bus.dir(), "bridge-north") >= 16;
  }));
  // North's consumer returns: its messages arrive, in order.
  std::vector<std::string> stuck;
  REQUIRE(eventually([&] {
    for (auto& p : payloads(north.bus, "stuck")) stuck.push_back(p);
    return stuck.size() >= 20;
  }));
  for (int i = 0; i < 20; ++i) CHECK(stuck[static_cast<std::size_t>(i)] == "n" + std::to_string(i));
  north.stop();
  west.stop();
  east.stop();
}
