// Two buses bridged over 127.0.0.1 with the real sluice executable: delivery both ways,
// backpressure across the link up to the breaker, SIGKILLed bridges on either side losing
// nothing, and a failed authentication refused on both sides.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "actors/bridge/held_inbox.hpp"
#include "backpressure/address.hpp"
#include "backpressure/send.hpp"
#include "bridged_buses.hpp"
#include "inbox/inbox.hpp"

using namespace sluice;
using sluice::test::eventually;
using sluice::test::link_of;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int per_sender = 600;
#else
constexpr int per_sender = 2000;
#endif

std::uint64_t size_of(const std::filesystem::path& dir, const std::string& agent) {
  auto in = inbox::inbox::open(dir, agent);
  return in ? in->size() : 0;
}

std::vector<nlohmann::json> recv_all(const test::bus_fixture& bus, const std::string& agent) {
  const auto r = bus.run({"recv", agent});
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out).get<std::vector<nlohmann::json>>();
}

void write_secret(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file) << text << "\n";
  ::chmod(file.c_str(), 0600);
}

}  // namespace

TEST_CASE("a message to far@east sent on west arrives in inbox far of east, and the reverse") {
  test::bridged_buses b;
  b.start();
  REQUIRE(b.west.run({"send", "me", "far@east", "greet", "hello east"}).exit_code == 0);
  REQUIRE(b.east.run({"send", "you", "near@west", "greet", "hello\nwest"}).exit_code == 0);
  REQUIRE(eventually(
      [&] { return size_of(b.east.dir(), "far") == 1 && size_of(b.west.dir(), "near") == 1; }));
  const auto far = recv_all(b.east, "far");
  REQUIRE(far.size() == 1);
  CHECK(far[0]["from"] == "me");
  CHECK(far[0]["type"] == "greet");
  CHECK(far[0]["payload"] == "hello east");
  const auto near = recv_all(b.west, "near");
  REQUIRE(near.size() == 1);
  CHECK(near[0]["from"] == "you");
  CHECK(near[0]["payload"] == "hello\nwest");
  // The link's counters are readable without CAF, from the status file in the bus directory.
  REQUIRE(eventually([&] {
    auto w = link_of(b.west, "east");
    return w && w->sent == 1 && w->acked == 1 && w->received == 1 && w->in_flight == 0;
  }));
  CHECK(size_of(b.west.dir(), "bridge-east") == 0);  // committed only after the far side acked
  // get-stats shows the link on the row of its outbound inbox.
  const auto stats = nlohmann::json::parse(b.west.run({"get-stats"}).out);
  bool shown = false;
  for (const auto& row : stats) {
    if (row["agent"] != "bridge-east") continue;
    shown = true;
    CHECK(row["bridge"]["peer"] == "east");
    CHECK(row["bridge"]["state"] == "connected");
    CHECK(row["bridge"]["sent"] == 1);
    CHECK(row["bridge"].contains("credits"));
    CHECK(row["bridge"].contains("resent"));
  }
  CHECK(shown);
  b.stop();
  CHECK(link_of(b.west, "east")->state == "stopped");
}

TEST_CASE(
    "remote messages obey the receiving bus's policy: a deny rule refuses, a limit holds the rest "
    "back, nothing is lost silently") {
  test::bridged_buses b;
  const auto policy = b.east.root() / "policy.toml";
  std::ofstream(policy) << R"([[rule]]
name = "no-spam"
from = "spammer"
action = "deny"

[[rule]]
name = "two-per-hour"
from = "me"
to = "far"
action = "limit"
rate = "2/h"
burst = 2
)";
  REQUIRE(b.east.run({"policy", "apply", policy.string()}).exit_code == 0);
  b.start();
  REQUIRE(b.west.run({"send", "spammer", "far@east", "t", "spam"}).exit_code == 0);
  for (int i = 0; i < 5; ++i)
    REQUIRE(b.west.run({"send", "me", "far@east", "t", std::to_string(i)}).exit_code == 0);
  // The denied message is settled (logged, counted undeliverable); two go in; three wait.
  REQUIRE(eventually([&] {
    auto e = link_of(b.east, "west");
    return e && e->undeliverable == 1 && size_of(b.east.dir(), "far") == 2;
  }));
  const auto far = recv_all(b.east, "far");
  REQUIRE(far.size() == 2);
  CHECK(far[0]["payload"] == 0);  // a JSON payload comes back as JSON
  CHECK(far[1]["payload"] == 1);
  const auto limits = nlohmann::json::parse(b.east.run({"limits"}).out);
  CHECK(limits["rules"][0]["denied"] == 1);
  CHECK(limits["rules"][1]["allowed"] == 2);
  // Held, not lost: each reset of the limit (a full bucket of 2) lets the next ones in, in order.
  REQUIRE(b.east.run({"limits", "reset", "two-per-hour"}).exit_code == 0);
  REQUIRE(eventually([&] { return size_of(b.east.dir(), "far") == 2; }));
  REQUIRE(b.east.run({"limits", "reset", "two-per-hour"}).exit_code == 0);
  REQUIRE(eventually([&] { return size_of(b.east.dir(), "far") == 3; }));
  const auto rest = recv_all(b.east, "far");
  REQUIRE(rest.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(rest[i]["payload"] == i + 2);
  b.stop();
}

TEST_CASE("a stopped remote consumer makes the local sender back off and then opens the breaker") {
  test::bridged_buses b;
  for (auto* bus : {&b.east, &b.west}) {
    bus->env["MAX_INBOX_SIZE"] = "4";
    bus->env["BACKPRESSURE_WAIT_MS"] = "5";
  }
  b.start();
  // Nobody consumes far on east: 4 messages fill it, then west's holding inbox for far takes
  // what it can, then west's outbound inbox fills (each holds 4; a batch that is half moved
  // keeps its slots until it is committed, so together they take 11 or 12).
  std::vector<std::string> accepted;
  int code = 0;
  for (int i = 0; i < 12 && code == 0; ++i) {
    const auto text = "m" + std::to_string(i);
    code = b.west.run({"send", "me", "far@east", "n", text, "--timeout", "2s"}).exit_code;
    if (code == 0) accepted.push_back(text);
  }
  REQUIRE(accepted.size() >= 11);
  const auto held_dir = actors::held_directory(b.west.dir(), "east");
  REQUIRE(eventually([&] {
    return size_of(b.east.dir(), "far") == 4 && size_of(held_dir, "far") == 4 &&
           size_of(b.west.dir(), "bridge-east") == 4;
  }));
  // The status file is rewritten every 200 ms: await the report that follows the fill.
  CHECK(eventually([&] {
    auto w = link_of(b.west, "east");
    return w && w->credits == 0 && w->held == 4;
  }));
  // Exactly what a full local inbox does: backpressure exhausted (75), then the breaker (69).
  std::vector<int> codes;
  for (int i = 0; i < 8 && (codes.empty() || codes.back() != 69); ++i)
    codes.push_back(
        b.west.run({"send", "me", "far@east", "n", "late", "--timeout", "50ms"}).exit_code);
  REQUIRE(codes.size() >= 2);
  CHECK(codes.front() == 75);
  CHECK(codes.back() == 69);
  // The consumer comes back: everything accepted arrives, in order, and the holding inbox is
  // gone once drained.
  std::vector<std::string> got;
  REQUIRE(eventually([&] {
    for (const auto& m : recv_all(b.east, "far")) got.push_back(m["payload"]);
    return got.size() >= accepted.size();
  }));
  CHECK(got == accepted);
  CHECK(eventually([&] { return !std::filesystem::exists(held_dir); }));
  b.stop();
}

TEST_CASE(
    "a remote inbox nobody consumes holds up only the messages addressed to it, and another inbox "
    "on the same bus receives everything") {
  test::bridged_buses b;
  b.east.env["MAX_INBOX_SIZE"] = "4";
  b.west.env["MAX_INBOX_SIZE"] = "64";
  b.start();
  // One message in ten for `stuck`, which takes 4; the other 16 wait on west, in its holding
  // inbox for stuck, while every message for `open` goes on (consumed as it arrives).
  std::vector<std::string> want_open;
  std::vector<std::string> want_stuck;
  for (int i = 0; i < 200; ++i)
    (i % 10 == 0 ? want_stuck : want_open).push_back("m" + std::to_string(i));
  std::atomic<int> failed_sends{0};
  std::thread sender([&] {
    auto out = inbox::inbox::open(b.west.dir(), "bridge-east");
    backpressure::send_policy policy;
    policy.deadline = std::chrono::seconds(30);
    policy.max_retries = 100000;
    for (int i = 0; i < 200; ++i) {
      const auto p =
          backpressure::wrap_envelope(i % 10 == 0 ? "stuck" : "open", "m" + std::to_string(i));
      if (!out || backpressure::send_with_backpressure(*out, {"me", "t", p}, policy).status !=
                      backpressure::send_status::sent)
        ++failed_sends;
    }
  });
  std::vector<std::string> got_open;
  const bool all_open = eventually([&] {
    for (const auto& m : recv_all(b.east, "open")) got_open.push_back(m["payload"]);
    return got_open.size() >= want_open.size();
  });
  sender.join();
  REQUIRE(all_open);
  CHECK(failed_sends == 0);
  CHECK(got_open == want_open);
  CHECK(size_of(b.east.dir(), "stuck") == 4);
  CHECK(eventually([&] {
    auto w = link_of(b.west, "east");
    return w && w->held == 16;
  }));
  std::vector<std::string> got_stuck;
  REQUIRE(eventually([&] {
    for (const auto& m : recv_all(b.east, "stuck")) got_stuck.push_back(m["payload"]);
    return got_stuck.size() >= want_stuck.size();
  }));
  CHECK(got_stuck == want_stuck);
  b.stop();
}

TEST_CASE(
    "bridges killed with SIGKILL mid-stream and restarted lose nothing and keep each sender's "
    "order",
    "[stress]") {
  test::bridged_buses b;
  b.start();
  auto out = inbox::inbox::open_or_create(b.west.dir(), "bridge-east");
  REQUIRE(out);
  auto far = inbox::inbox::open_or_create(b.east.dir(), "far");
  REQUIRE(far);
  auto consumer = far->attach_consumer();
  REQUIRE(consumer);

  std::atomic<int> failed_sends{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < 2; ++s) {
    senders.emplace_back([&, s] {
      auto box = inbox::inbox::open(b.west.dir(), "bridge-east");
      const std::string from = "s" + std::to_string(s);
      backpressure::send_policy policy;
      policy.deadline = std::chrono::seconds(30);
      policy.max_retries = 100000;
      for (int i = 0; i < per_sender; ++i) {
        const auto payload = backpressure::wrap_envelope("far", std::to_string(i));
        const auto r = backpressure::send_with_backpressure(*box, {from, "seq", payload}, policy);
        if (r.status != backpressure::send_status::sent) ++failed_sends;
      }
    });
  }

  std::map<std::string, int> next;  // per sender: the next sequence number not yet seen
  int duplicates = 0;
  int gaps = 0;
  int unique = 0;
  auto drain = [&] {
    for (const auto& m : consumer->pop_batch(512)) {
      const int seq = std::stoi(std::string(m.payload));
      int& n = next[std::string(m.from)];
      if (seq == n) {
        ++n;
        ++unique;
      } else if (seq < n) {
        ++duplicates;
      } else {
        ++gaps;
      }
    }
    consumer->commit();
  };
  auto drain_until = [&](int count) {
    return eventually(
        [&] {
          drain();
          return unique >= count;
        },
        std::chrono::seconds(30));
  };

  REQUIRE(drain_until(per_sender / 2));
  ::kill(b.west_bridge->pid(), SIGKILL);
  b.west_bridge->finish({}, std::chrono::seconds(5));
  b.start_west();
  b.await_connected();
  REQUIRE(drain_until(per_sender));
  ::kill(b.east_bridge->pid(), SIGKILL);
  b.east_bridge->finish({}, std::chrono::seconds(5));
  b.start_east();  // same port: west reconnects with backoff
  REQUIRE(drain_until(2 * per_sender));
  for (auto& t : senders) t.join();
  drain();
  CHECK(failed_sends == 0);
  CHECK(gaps == 0);
  CHECK(unique == 2 * per_sender);
  CHECK(next["s0"] == per_sender);
  CHECK(next["s1"] == per_sender);
  INFO("duplicates after the receiving bridge's crash: " << duplicates);
  b.await_connected();
  CHECK(link_of(b.west, "east")->resent + link_of(b.west, "east")->sent >= 1);
  b.stop();
}

TEST_CASE("a peer with the wrong secret is refused on both sides and no message crosses") {
  test::bridged_buses b;
  write_secret(b.east.root() / "secret", "correct horse battery staple");
  write_secret(b.west.root() / "secret", "wrong");
  b.east_extra = {"--secret-file", (b.east.root() / "secret").string()};
  b.west_extra = {"--secret-file", (b.west.root() / "secret").string()};
  REQUIRE(b.west.run({"send", "me", "far@east", "t", "must not cross"}).exit_code == 0);
  b.start_east();
  b.start_west();
  const auto west = b.west_bridge->finish({}, std::chrono::seconds(15));
  b.west_bridge.reset();
  CHECK(west.exit_code == 77);
  CHECK(west.err.find("authentication with 127.0.0.1") != std::string::npos);
  b.east_bridge->signal(SIGTERM);
  const auto east = b.east_bridge->finish({}, std::chrono::seconds(10));
  b.east_bridge.reset();
  CHECK(east.err.find("refused peer 'west': its HMAC proof does not match") != std::string::npos);
  CHECK(size_of(b.east.dir(), "far") == 0);
  CHECK(size_of(b.west.dir(), "bridge-east") == 1);

  SECTION("and a peer without any secret is refused too") {
    b.west_extra.clear();
    b.start_east();
    b.start_west();
    const auto w = b.west_bridge->finish({}, std::chrono::seconds(15));
    b.west_bridge.reset();
    CHECK(w.exit_code == 77);
    CHECK(w.err.find("requires --secret-file") != std::string::npos);
  }
  SECTION("and with the same secret the queued message crosses") {
    write_secret(b.west.root() / "secret", "correct horse battery staple");
    b.start_east();
    b.start_west();
    b.await_connected();
    REQUIRE(eventually([&] { return size_of(b.east.dir(), "far") == 1; }));
    b.stop();
  }
}
