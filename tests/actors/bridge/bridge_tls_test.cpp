// TLS between bridges through CAF's OpenSSL module, with the real sluice executable:
// certificates from one CA link (alongside the HMAC secret) and nothing readable crosses the
// wire; a plaintext peer, or a certificate from another CA, is refused on both sides and no
// message crosses; unusable certificate files are refused before anything starts.
#include <sys/stat.h>

#include <fstream>

#include "bridged_buses.hpp"
#include "inbox/inbox.hpp"
#include "recording_relay.hpp"
#include "tls_certs.hpp"

using namespace sluice;
using sluice::test::eventually;
using sluice::test::link_of;

namespace {

std::uint64_t size_of(const std::filesystem::path& dir, const std::string& agent) {
  auto in = inbox::inbox::open(dir, agent);
  return in ? in->size() : 0;
}

std::vector<nlohmann::json> recv_all(const test::bus_fixture& bus, const std::string& agent) {
  const auto r = bus.run({"recv", agent});
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out).get<std::vector<nlohmann::json>>();
}

void write_secret(const std::filesystem::path& file) {
  std::ofstream(file) << "correct horse battery staple\n";
  ::chmod(file.c_str(), 0600);
}

const std::string marker = "plainly-readable-marker-7f3a9c";

// The connecting bridge gives up (77) and the listening one, stopped, logged its refusal.
struct refusal {
  test::run_result west;
  test::run_result east;
};

refusal refused_both_ways(test::bridged_buses& b) {
  b.start_east();
  b.start_west();
  refusal r;
  r.west = b.west_bridge->finish({}, std::chrono::seconds(20));
  b.west_bridge.reset();
  b.east_bridge->signal(SIGTERM);
  r.east = b.east_bridge->finish({}, std::chrono::seconds(10));
  b.east_bridge.reset();
  return r;
}

}  // namespace

TEST_CASE(
    "bridges with certificates from one CA link over TLS beside the HMAC secret, and what "
    "crosses the wire is not readable") {
  test::bridged_buses b;
  test::cert_dir certs(b.east.root() / "certs");
  certs.make_ca("ca");
  certs.make_cert("east", "ca");
  certs.make_cert("west", "ca");
  write_secret(b.east.root() / "secret");
  write_secret(b.west.root() / "secret");
  b.east_extra = certs.flags("east", "ca");
  b.west_extra = certs.flags("west", "ca");
  b.east_extra.insert(b.east_extra.end(), {"--secret-file", (b.east.root() / "secret").string()});
  b.west_extra.insert(b.west_extra.end(), {"--secret-file", (b.west.root() / "secret").string()});
  b.start_east();
  test::recording_relay relay(b.port);
  b.west_dials = relay.port();
  b.start_west();
  b.await_connected();
  REQUIRE(b.west.run({"send", "me", "far@east", "greet", "to east " + marker}).exit_code == 0);
  REQUIRE(b.east.run({"send", "you", "near@west", "greet", "to west " + marker}).exit_code == 0);
  REQUIRE(eventually(
      [&] { return size_of(b.east.dir(), "far") == 1 && size_of(b.west.dir(), "near") == 1; }));
  CHECK(recv_all(b.east, "far")[0]["payload"] == "to east " + marker);
  CHECK(recv_all(b.west, "near")[0]["payload"] == "to west " + marker);
  const auto wire = relay.seen();
  CHECK(wire.size() > 1000);  // the handshake, TLS and both messages went through the relay
  CHECK(wire.find(marker) == std::string::npos);
  CHECK(wire.find("to east") == std::string::npos);
  CHECK(link_of(b.west, "east")->tls);
  CHECK(link_of(b.east, "west")->tls);
  b.stop();
}

TEST_CASE(
    "the recording relay sees a plaintext link's messages, so the check above means something") {
  test::bridged_buses b;
  b.start_east();
  test::recording_relay relay(b.port);
  b.west_dials = relay.port();
  b.start_west();
  b.await_connected();
  REQUIRE(b.west.run({"send", "me", "far@east", "greet", "to east " + marker}).exit_code == 0);
  REQUIRE(eventually([&] { return size_of(b.east.dir(), "far") == 1; }));
  CHECK(relay.seen().find(marker) != std::string::npos);
  CHECK_FALSE(link_of(b.west, "east")->tls);
  b.stop();
}

TEST_CASE(
    "a plaintext peer and a TLS bridge refuse each other on both sides and no message crosses") {
  test::bridged_buses b;
  test::cert_dir certs(b.east.root() / "certs");
  certs.make_ca("ca");
  certs.make_cert("east", "ca");
  certs.make_cert("west", "ca");
  REQUIRE(b.west.run({"send", "me", "far@east", "t", "must not cross"}).exit_code == 0);
  SECTION("a plaintext peer dials a TLS listener") {
    b.east_extra = certs.flags("east", "ca");
    const auto r = refused_both_ways(b);
    CHECK(r.west.exit_code == 77);
    CHECK(r.west.err.find("requires TLS") != std::string::npos);
    CHECK(r.east.err.find("refused peer 'west': this bridge requires TLS") != std::string::npos);
  }
  SECTION("a TLS peer dials a plaintext listener") {
    b.west_extra = certs.flags("west", "ca");
    const auto r = refused_both_ways(b);
    CHECK(r.west.exit_code == 77);
    CHECK(r.west.err.find("the peer uses TLS and this bridge has none") != std::string::npos);
    CHECK(r.east.err.find("refused peer 'west': the peer uses TLS") != std::string::npos);
  }
  CHECK(size_of(b.east.dir(), "far") == 0);
  CHECK(size_of(b.west.dir(), "bridge-east") == 1);
}

TEST_CASE("a certificate from another CA is refused on both sides and no message crosses") {
  test::bridged_buses b;
  test::cert_dir certs(b.east.root() / "certs");
  certs.make_ca("ca");
  certs.make_ca("other");
  certs.make_cert("east", "ca");
  certs.make_cert("west", "ca");
  certs.make_cert("stranger", "other");
  REQUIRE(b.west.run({"send", "me", "far@east", "t", "must not cross"}).exit_code == 0);
  SECTION("the dialing bridge's certificate") {
    b.east_extra = certs.flags("east", "ca");
    b.west_extra = certs.flags("stranger", "ca");
  }
  SECTION("the listening bridge's certificate") {
    b.east_extra = certs.flags("stranger", "ca");
    b.west_extra = certs.flags("west", "ca");
  }
  const auto r = refused_both_ways(b);
  INFO(r.west.err);
  INFO(r.east.err);
  CHECK(r.west.exit_code == 77);
  CHECK(r.west.err.find("failed: TLS: ") != std::string::npos);
  CHECK(r.east.err.find("refused peer 'west': TLS: ") != std::string::npos);
  CHECK(size_of(b.east.dir(), "far") == 0);
  CHECK(size_of(b.west.dir(), "bridge-east") == 1);
}

TEST_CASE("unusable TLS files stop the bridge before it starts, naming the file") {
  test::bus_fixture bus;
  test::cert_dir certs(bus.root() / "certs");
  certs.make_ca("ca");
  certs.make_cert("east", "ca");
  certs.make_cert("west", "ca");
  const auto bridge = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"bridge", "--name", "east", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return bus.run(args);
  };
  SECTION("a flag without the other two") {
    const auto r = bridge({"--tls-cert", certs.cert("east")});
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("--tls-key") != std::string::npos);
  }
  SECTION("a key other users may read") {
    ::chmod(certs.key("east").c_str(), 0644);
    const auto r = bridge(certs.flags("east", "ca"));
    CHECK(r.exit_code == 77);
    CHECK(r.err.find("chmod 600 " + certs.key("east")) != std::string::npos);
  }
  SECTION("a key of another certificate") {
    const auto r = bridge({"--tls-cert", certs.cert("east"), "--tls-key", certs.key("west"),
                           "--tls-ca", certs.cert("ca")});
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("does not belong to --tls-cert") != std::string::npos);
  }
  SECTION("a CA file that holds no certificate") {
    std::ofstream(bus.root() / "junk.pem") << "not a certificate\n";
    const auto r = bridge({"--tls-cert", certs.cert("east"), "--tls-key", certs.key("east"),
                           "--tls-ca", (bus.root() / "junk.pem").string()});
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("--tls-ca") != std::string::npos);
  }
  SECTION("a missing file") {
    const auto r = bridge({"--tls-cert", certs.cert("nobody"), "--tls-key", certs.key("east"),
                           "--tls-ca", certs.cert("ca")});
    CHECK(r.exit_code == 66);
    CHECK(r.err.find(certs.cert("nobody")) != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(bus.dir() / "bridge-west.json"));
}
