// The bridge's front door without CAF: the handshake both sides speak before CAF gets a
// connection, and the front door itself over 127.0.0.1 (deadline, limit on unauthenticated
// connections, the frame cap of the handshake, the hand-over of the socket).
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "actors/bridge/front_door.hpp"
#include "actors/bridge/handshake.hpp"
#include "raw_socket.hpp"
#include "support/await.hpp"

using namespace sluice::actors;
using sluice::test::basp_header;
using sluice::test::eventually;
using sluice::test::raw_socket;
using namespace std::chrono_literals;

namespace {

std::string body_of(const std::string& frame) {
  REQUIRE(frame.size() > handshake_prefix_size);
  const std::array<unsigned char, 2> prefix{static_cast<unsigned char>(frame[0]),
                                            static_cast<unsigned char>(frame[1])};
  const auto len = handshake_frame_length(prefix);
  REQUIRE(len);
  REQUIRE(*len == frame.size() - handshake_prefix_size);
  return frame.substr(handshake_prefix_size);
}

struct outcome {
  handshake_state client;
  handshake_state server;
};

// Runs the whole exchange in memory.
outcome converse(client_handshake& c, server_handshake& s) {
  std::string to_server = c.hello();
  while (c.state() == handshake_state::running && s.state() == handshake_state::running &&
         !to_server.empty()) {
    const auto to_client = s.on_frame(body_of(to_server));
    to_server = c.on_frame(body_of(to_client));
  }
  return {c.state(), s.state()};
}

// What the front door hands over, collected for the test thread. Declared before the front
// doors in each test, so it outlives their threads.
struct admissions {
  std::mutex m;
  std::condition_variable cv;
  std::deque<admitted_connection> got;
  std::vector<std::pair<std::string, std::string>> refused;

  front_door::admit_fn admit() {
    return [this](admitted_connection c) {
      std::lock_guard<std::mutex> lock(m);
      got.push_back(std::move(c));
      cv.notify_all();
    };
  }
  front_door::refusal_fn refuse() {
    return [this](const std::string& peer, const std::string& why) {
      std::lock_guard<std::mutex> lock(m);
      refused.emplace_back(peer, why);
      cv.notify_all();
    };
  }
  std::optional<admitted_connection> next(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(m);
    if (!cv.wait_for(lock, timeout, [&] { return !got.empty(); })) return std::nullopt;
    auto c = std::move(got.front());
    got.pop_front();
    return c;
  }
  bool await_refusals(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(m);
    return cv.wait_for(lock, timeout, [&] { return refused.size() >= n; });
  }
};

dial_result dial(front_door& door, std::uint16_t port) {
  std::promise<dial_result> p;
  auto f = p.get_future();
  door.dial("127.0.0.1", port, [&p](dial_result r) { p.set_value(std::move(r)); });
  REQUIRE(f.wait_for(15s) == std::future_status::ready);
  return f.get();
}

// Exactly n bytes from a blocking fd, or what arrived before it closed.
std::string read_fd(int fd, std::size_t n, std::chrono::milliseconds timeout = 10s) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    char buf[65536];
    const auto k = ::read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (k <= 0) break;
    out.append(buf, static_cast<std::size_t>(k));
  }
  return out;
}

// True once the fd reads end-of-file (whatever came before is dropped).
bool fd_closed_within(int fd, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    char buf[65536];
    if (::read(fd, buf, sizeof buf) <= 0) return true;
  }
  return false;
}

void write_fd(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto k = ::write(fd, bytes.data() + done, bytes.size() - done);
    REQUIRE(k > 0);
    done += static_cast<std::size_t>(k);
  }
}

front_door_limits limits(std::chrono::milliseconds timeout, std::size_t max_unauthenticated = 16) {
  return {timeout, max_unauthenticated};
}

}  // namespace

// ---- handshake ------------------------------------------------------------------------------

TEST_CASE("two bridges with the same secret authenticate each other and agree on a ticket") {
  client_handshake c{{"west", "s3cret"}};
  server_handshake s{{"east", "s3cret"}};
  const auto r = converse(c, s);
  CHECK(r.client == handshake_state::accepted);
  CHECK(r.server == handshake_state::accepted);
  CHECK(c.peer() == "east");
  CHECK(s.peer() == "west");
  CHECK(c.ticket() == s.ticket());
  CHECK(c.ticket().size() == 32);
}

TEST_CASE("two bridges without a secret still exchange names and a ticket") {
  client_handshake c{{"west", ""}};
  server_handshake s{{"east", ""}};
  const auto r = converse(c, s);
  CHECK(r.client == handshake_state::accepted);
  CHECK(r.server == handshake_state::accepted);
  CHECK(c.ticket() == s.ticket());
}

TEST_CASE("a wrong secret is refused on both sides, each with its own reason") {
  client_handshake c{{"west", "wrong"}};
  server_handshake s{{"east", "right"}};
  const auto r = converse(c, s);
  CHECK(r.client == handshake_state::refused);
  CHECK(r.server == handshake_state::refused);
  CHECK(c.why() == "peer 'east' did not prove it holds our --secret-file");
  CHECK(s.why() == "its HMAC proof does not match this bridge's --secret-file");
  CHECK(s.ticket().empty());
  CHECK(c.ticket().empty());
}

TEST_CASE("a secret on one side only is refused at the hello") {
  SECTION("the server has one") {
    client_handshake c{{"west", ""}};
    server_handshake s{{"east", "k"}};
    converse(c, s);
    CHECK(s.why() == "this bridge requires --secret-file and the peer has none");
    CHECK(c.why() == "the peer refused: this bridge requires --secret-file and the peer has none");
  }
  SECTION("the client has one") {
    client_handshake c{{"west", "k"}};
    server_handshake s{{"east", ""}};
    converse(c, s);
    CHECK(s.why() == "the peer uses --secret-file and this bridge has none");
    CHECK(c.state() == handshake_state::refused);
  }
}

TEST_CASE("bad names are refused by the server") {
  SECTION("the same name as the server") {
    client_handshake c{{"east", ""}};
    server_handshake s{{"east", ""}};
    converse(c, s);
    CHECK(s.why().find("same name") != std::string::npos);
  }
  SECTION("not a bridge name") {
    client_handshake c{{"we st", ""}};
    server_handshake s{{"east", ""}};
    converse(c, s);
    CHECK(s.state() == handshake_state::refused);
    CHECK(s.peer().empty());  // an invalid name is never reported as a peer
  }
}

TEST_CASE("anything but the bridge handshake is refused, and says so") {
  for (const std::string& junk :
       {std::string("not json"), std::string("[1,2,3]"), std::string("{}"),
        std::string(R"({"hello":"sluice-bridge/1"})"), std::string(100, '\0')}) {
    server_handshake s{{"east", "k"}};
    (void)s.on_frame(junk);
    CHECK(s.state() == handshake_state::refused);
    CHECK(s.why().find("does not speak " + std::string(handshake_protocol)) != std::string::npos);
  }
  client_handshake c{{"west", ""}};
  (void)c.hello();
  CHECK(c.on_frame("junk").empty());
  CHECK(c.state() == handshake_state::refused);
}

TEST_CASE("a frame prefix of 0 or above the limit is refused before any body is read") {
  CHECK_FALSE(handshake_frame_length({0, 0}));
  CHECK(handshake_frame_length({0, 1}) == 1u);
  CHECK(handshake_frame_length({0x04, 0x00}) == max_handshake_frame);
  CHECK_FALSE(handshake_frame_length({0x04, 0x01}));
  CHECK_FALSE(handshake_frame_length({0xFF, 0xFF}));
}

// ---- front door over 127.0.0.1 --------------------------------------------------------------

TEST_CASE("two front doors authenticate and hand over the two ends of one connection") {
  admissions in;  // first, so it outlives the front doors that call into it
  front_door east{{"east", "s3cret"}, limits(5s)};
  front_door west{{"west", "s3cret"}, limits(5s)};
  auto port = east.listen("127.0.0.1", 0);
  REQUIRE(port);
  east.accept(in.admit(), in.refuse());
  auto out = dial(west, *port);
  REQUIRE(out.outcome == dial_outcome::admitted);
  CHECK(out.connection.peer == "east");
  auto arrived = in.next();
  REQUIRE(arrived);
  CHECK(arrived->peer == "west");
  CHECK(arrived->ticket == out.connection.ticket);
  CHECK(east.unauthenticated() == 0);

  // Whatever CAF writes next goes straight through: the front door is out of the way.
  write_fd(out.connection.socket.get(), "ping");
  CHECK(read_fd(arrived->socket.get(), 4) == "ping");
  write_fd(arrived->socket.get(), "pong");
  CHECK(read_fd(out.connection.socket.get(), 4) == "pong");
  // Closing one end is seen at the other.
  arrived->socket = owned_fd{};
  CHECK(fd_closed_within(out.connection.socket.get()));
}

TEST_CASE("a front door refuses a peer with the wrong secret, and the dialer learns why") {
  admissions in;
  front_door east{{"east", "right"}, limits(5s)};
  front_door west{{"west", "wrong"}, limits(5s)};
  auto port = east.listen("127.0.0.1", 0);
  REQUIRE(port);
  east.accept(in.admit(), in.refuse());
  const auto out = dial(west, *port);
  CHECK(out.outcome == dial_outcome::refused);
  CHECK(out.peer == "east");
  CHECK(out.why == "peer 'east' did not prove it holds our --secret-file");
  REQUIRE(in.await_refusals(1));
  CHECK(in.refused[0].first == "west");
  CHECK(in.refused[0].second == "its HMAC proof does not match this bridge's --secret-file");
  CHECK_FALSE(in.next(100ms));
}

TEST_CASE("an idle connection is closed once the handshake deadline has passed") {
  admissions in;
  front_door east{{"east", ""}, limits(200ms)};
  auto port = east.listen("127.0.0.1", 0);
  REQUIRE(port);
  east.accept(in.admit(), in.refuse());
  raw_socket idle{*port};
  REQUIRE(idle.valid());
  CHECK(idle.closed_within(10s));
  CHECK(eventually([&] { return east.unauthenticated() == 0; }));
}

TEST_CASE("a connection trickling a byte at a time is closed at the deadline all the same") {
  admissions in;
  front_door east{{"east", ""}, limits(300ms)};
  auto port = east.listen("127.0.0.1", 0);
  REQUIRE(port);
  east.accept(in.admit(), in.refuse());
  raw_socket slow{*port};
  REQUIRE(slow.valid());
  // A valid frame prefix announcing the largest frame, then its body a byte at a time: each
  // byte arrives well within any per-read timeout, the whole never within the deadline.
  bool closed = !slow.send(std::string("\x04\x00", 2));
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!closed && std::chrono::steady_clock::now() < give_up) {
    closed = !slow.send("x") || slow.closed_within(20ms);
  }
  CHECK(closed);
}

TEST_CASE("connections beyond the unauthenticated limit are closed at once while the rest wait") {
  admissions in;
  // A deadline far beyond the test's own waits: whatever closes here, the limit closed.
  front_door east{{"east", ""}, limits(120s, 3)};
  front_door west{{"west", ""}, limits(5s)};
  auto port = east.listen("127.0.0.1", 0);
  REQUIRE(port);
  east.accept(in.admit(), in.refuse());
  std::vector<raw_socket> held;
  for (int i = 0; i < 3; ++i) {
    held.emplace_back(*port);
    REQUIRE(held.back().valid());
  }
  REQUIRE(eventually([&] { return east.unauthenticated() == 3; }));
  raw_socket extra{*port};
  REQUIRE(extra.valid());
  CHECK(extra.closed_within(10s));
  CHECK(east.unauthenticated() == 3);
  for (auto& h : held) CHECK(h.open_now());
  // A bridge dialing now is turned away too, and may try again later.
  const auto busy = dial(west, *port);
  CHECK(busy.outcome == dial_outcome::failed);
  // One slot frees up: the next peer gets through.
  held.pop_back();
  REQUIRE(eventually([&] { return east.unauthenticated() == 2; }));
  const auto ok = dial(west, *port);
  CHECK(ok.outcome == dial_outcome::admitted);
}

TEST_CASE("a handshake frame announcing more than the limit is refused without waiting") {
  admissions in;
  front_door east{{"east", ""}, limits(120s)};
  auto port = east.listen("127.0.0.1", 0);
  REQUIRE(port);
  east.accept(in.admit(), in.refuse());
  for (const auto& hostile : {basp_header(0, 0xFFFFFF00u), std::string("\xFF\xFF", 2)}) {
    raw_socket s{*port};
    REQUIRE(s.valid());
    s.send(hostile);
    CHECK(s.closed_within(10s));
  }
  CHECK(eventually([&] { return east.unauthenticated() == 0; }));
}

TEST_CASE("a dial to a port where nobody listens fails, to be retried") {
  std::uint16_t port = 0;
  {
    front_door probe{{"probe", ""}, limits(5s)};
    auto p = probe.listen("127.0.0.1", 0);
    REQUIRE(p);
    port = *p;
  }
  front_door west{{"west", ""}, limits(2s)};
  const auto r = dial(west, port);
  CHECK(r.outcome == dial_outcome::failed);
  CHECK(r.why.find("cannot connect") != std::string::npos);
}
