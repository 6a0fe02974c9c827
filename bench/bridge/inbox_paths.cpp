// sluice-bench bridge: the two sluice paths. A local inbox (the producer pushes, the consumer
// pops, one process), and two `sluice bridge` processes over 127.0.0.1:
//
//   west: producer -> inbox bridge-east -> [sluice bridge west] --tcp--> [sluice bridge east]
//   east:                                                   -> inbox far -> consumer
//
// The producer sends with backpressure one message at a time, as `sluice send` and a C++
// agent do; the consumer pops up to 512 at a time and sleeps on the inbox's doorbell.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "backpressure/address.hpp"
#include "backpressure/send.hpp"
#include "bench/bridge/paths.hpp"
#include "inbox/inbox.hpp"

namespace sluice::bench {

namespace {

// A path whose far end died (a bridge or relay process gone) would keep the bench waiting for
// ever: one that delivers nothing for this long is given up, with a line on stderr.
constexpr auto stall_limit = std::chrono::seconds(10);

}  // namespace

std::optional<path_numbers> measure_inboxes(inbox::inbox& dest, inbox::inbox& sink, bool remote,
                                            const workload& w) {
  auto cons = sink.attach_consumer();
  if (!cons) {
    std::fprintf(stderr, "sluice-bench bridge: %s\n", cons.err().message.c_str());
    return std::nullopt;
  }
  auto make = [&](std::uint64_t stamp) {
    const auto body = stamped(stamp, w.payload);
    return remote ? backpressure::wrap_envelope("far", body) : body;
  };
  backpressure::send_policy policy;
  policy.deadline = stall_limit;
  policy.max_retries = 1000000;
  std::atomic<bool> stop{false};
  // The next message, or false when nothing arrived for stall_limit.
  auto receive = [&](std::size_t max, auto&& on_batch) {
    auto since = std::chrono::steady_clock::now();
    for (;;) {
      auto batch = cons->pop_batch(max);
      if (!batch.empty()) {
        on_batch(batch);
        cons->commit();
        return true;
      }
      if (std::chrono::steady_clock::now() - since > stall_limit) {
        std::fprintf(stderr,
                     "sluice-bench bridge: nothing arrived for %lld s; giving up on this path\n",
                     static_cast<long long>(stall_limit.count()));
        return false;
      }
      (void)sink.wait_not_empty(std::chrono::milliseconds(100));
    }
  };
  path_numbers n;
  std::vector<double> loaded;
  loaded.reserve(w.messages);
  const auto start = now_ns();
  std::thread producer([&] {
    for (std::size_t i = 0; i < w.messages && !stop.load(); ++i)
      (void)backpressure::send_with_backpressure(dest, {"bench", "t", make(now_ns())}, policy);
  });
  std::size_t got = 0;
  auto last = start;
  bool alive = true;
  while (alive && got < w.messages) {
    alive = receive(512, [&](const auto& batch) {
      const auto t = now_ns();
      for (const auto& m : batch)
        loaded.push_back(static_cast<double>(t - stamp_of(m.payload)) / 1e3);
      got += batch.size();
    });
    last = now_ns();
  }
  stop = true;
  producer.join();
  if (!alive) return std::nullopt;
  n.msgs_per_s = static_cast<double>(w.messages) / (static_cast<double>(last - start) / 1e9);
  n.loaded_p50_us = percentile(loaded, 0.5);
  std::vector<double> lat;
  for (std::size_t i = 0; i < w.samples; ++i) {
    (void)backpressure::send_with_backpressure(dest, {"bench", "t", make(now_ns())}, policy);
    const bool arrived = receive(1, [&](const auto& batch) {
      lat.push_back(static_cast<double>(now_ns() - stamp_of(batch[0].payload)) / 1e3);
    });
    if (!arrived) return std::nullopt;
  }
  n.p50_us = percentile(lat, 0.5);
  n.p99_us = percentile(lat, 0.99);
  return n;
}

namespace {

std::optional<std::uint16_t> port_of(child_process& p) {
  const auto line = p.read_line(std::chrono::seconds(15));
  if (!line) return std::nullopt;
  const auto at = line->find("\"port\":");
  if (at == std::string::npos) return std::nullopt;
  return static_cast<std::uint16_t>(std::stoi(line->substr(at + 7)));
}

child_process start_bridge(const bridge_setup& s, const std::filesystem::path& bus,
                           std::vector<std::string> args) {
  return child_process(
      s.sluice, std::move(args),
      {"SLUICE_DIR=" + bus.string(), "SLUICE_LOG_LEVEL=warn", "PATH=/usr/local/bin:/usr/bin:/bin"});
}

bool run_quietly(const std::string& command) {
  child_process p("/bin/sh", {"-c", command + " >/dev/null 2>&1; echo $?"});
  const auto line = p.read_line(std::chrono::seconds(30));
  return line && *line == "0";
}

}  // namespace

std::optional<path_numbers> measure_local_inbox(const std::filesystem::path& dir,
                                                const workload& w) {
  auto local = inbox::inbox::open_or_create(dir, "local");
  // The producer thread gets its own mapping: one inbox object per thread, as across processes.
  auto local_tx = inbox::inbox::open(dir, "local");
  if (!local || !local_tx) return std::nullopt;
  return measure_inboxes(*local_tx, *local, false, w);
}

std::optional<path_numbers> measure_bridge(const bridge_setup& s, const workload& w) {
  std::error_code ec;
  const auto east_dir = s.dir / "east";
  const auto west_dir = s.dir / "west";
  std::filesystem::remove_all(east_dir, ec);
  std::filesystem::remove_all(west_dir, ec);
  std::vector<std::string> east_args{"bridge", "--name", "east", "--listen", "127.0.0.1:0"};
  east_args.insert(east_args.end(), s.east_tls.begin(), s.east_tls.end());
  auto east = start_bridge(s, east_dir, east_args);
  const auto port = port_of(east);
  if (!port) {
    std::fprintf(stderr, "sluice-bench bridge: the east bridge did not start (%s)\n",
                 s.sluice.c_str());
    return std::nullopt;
  }
  std::vector<std::string> west_args{"bridge", "--name", "west", "--connect",
                                     "127.0.0.1:" + std::to_string(*port)};
  west_args.insert(west_args.end(), s.west_tls.begin(), s.west_tls.end());
  auto west = start_bridge(s, west_dir, west_args);
  auto out = inbox::inbox::open_or_create(west_dir, "bridge-east");
  auto far = inbox::inbox::open_or_create(east_dir, "far");
  if (!out || !far) {
    std::fprintf(stderr, "sluice-bench bridge: cannot create the inboxes\n");
    return std::nullopt;
  }
  auto n = measure_inboxes(*out, *far, true, w);
  west.stop();
  east.stop();
  return n;
}

bool make_bridge_certs(const std::filesystem::path& dir, bridge_setup& s) {
  const auto openssl = find_program("openssl");
  if (openssl.empty()) return false;
  std::filesystem::create_directories(dir);
  const auto f = [&](const std::string& name) { return (dir / name).string(); };
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  bool ok = run_quietly(openssl + " req -x509" + ec + " -keyout " + f("ca.key") + " -out " +
                        f("ca.pem") + " -subj /CN=bench-ca -days 2");
  for (const std::string name : {"east", "west"}) {
    ok = ok && run_quietly(openssl + " req" + ec + " -keyout " + f(name + ".key") + " -out " +
                           f(name + ".csr") + " -subj /CN=" + name);
    ok = ok && run_quietly(openssl + " x509 -req -in " + f(name + ".csr") + " -CA " + f("ca.pem") +
                           " -CAkey " + f("ca.key") + " -CAcreateserial -out " + f(name + ".pem") +
                           " -days 2");
    ::chmod(f(name + ".key").c_str(), 0600);
  }
  if (!ok) return false;
  s.east_tls = {"--tls-cert", f("east.pem"), "--tls-key", f("east.key"), "--tls-ca", f("ca.pem")};
  s.west_tls = {"--tls-cert", f("west.pem"), "--tls-key", f("west.key"), "--tls-ca", f("ca.pem")};
  return true;
}

}  // namespace sluice::bench
