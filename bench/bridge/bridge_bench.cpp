// sluice-bench bridge: messages through two `sluice bridge` processes over 127.0.0.1 against
// the same producer/consumer pair on one local inbox, in the same run, printed as ratios.
//
//   west: producer -> inbox bridge-east -> [sluice bridge west] --tcp--> [sluice bridge east]
//   east:                                                   -> inbox far -> consumer
//
// Throughput: one producer thread sends N messages with backpressure, the consumer pops in
// batches; msgs/s from the first send to the last receipt. Latency: one message at a time,
// stamped with CLOCK_MONOTONIC (same host, so the stamp is comparable), consumer waiting on
// the doorbell. The sluice executable is found next to this build (../cli/sluice) or --sluice.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backpressure/address.hpp"
#include "backpressure/send.hpp"
#include "bench/bench.hpp"
#include "inbox/inbox.hpp"

extern char** environ;

namespace sluice::bench {
namespace {

using clock_type = std::chrono::steady_clock;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
          .count());
}

std::string default_sluice() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    const auto sibling = std::filesystem::path(std::string(buf, static_cast<std::size_t>(n)))
                             .parent_path()
                             .parent_path() /
                         "cli" / "sluice";
    if (std::filesystem::exists(sibling)) return sibling.string();
  }
  return "sluice";
}

struct child {
  pid_t pid = -1;
  int out = -1;
};

child spawn_bridge(const std::string& exe, const std::filesystem::path& dir,
                   std::vector<std::string> args) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  args.insert(args.begin(), exe);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings{"SLUICE_DIR=" + dir.string(), "SLUICE_LOG_LEVEL=warn",
                                       "PATH=/usr/local/bin:/usr/bin:/bin"};
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  child c;
  if (posix_spawnp(&c.pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  c.out = fds[0];
  return c;
}

std::optional<int> read_port(int fd) {
  std::string line;
  char ch = 0;
  while (::read(fd, &ch, 1) == 1 && ch != '\n') line += ch;
  const auto at = line.find("\"port\":");
  if (at == std::string::npos) return std::nullopt;
  return std::stoi(line.substr(at + 7));
}

void stop(child& c) {
  if (c.pid <= 0) return;
  ::kill(c.pid, SIGTERM);
  int st = 0;
  ::waitpid(c.pid, &st, 0);
  ::close(c.out);
  c.pid = -1;
}

struct numbers {
  double msgs_per_s = 0;
  double loaded_p50_us = 0;
  double p50_us = 0;
  double p99_us = 0;
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

// dest: where the producer pushes; sink: where the consumer reads; remote: wrap in an envelope.
numbers measure_path(inbox::inbox& dest, inbox::inbox& sink, bool remote, std::size_t count,
                     std::size_t payload, std::size_t samples) {
  auto cons = sink.attach_consumer();
  if (!cons) {
    std::fprintf(stderr, "sluice-bench bridge: %s\n", cons.err().message.c_str());
    return {};
  }
  auto make = [&](std::uint64_t stamp) {
    std::string body(std::max<std::size_t>(payload, 20), 'x');
    const auto text = std::to_string(stamp);
    std::memcpy(body.data(), text.data(), text.size());
    body[text.size()] = ' ';
    return remote ? backpressure::wrap_envelope("far", body) : body;
  };
  backpressure::send_policy policy;
  policy.deadline = std::chrono::seconds(60);
  policy.max_retries = 1000000;
  numbers n;
  std::vector<double> loaded;
  const auto start = clock_type::now();
  std::thread producer([&] {
    for (std::size_t i = 0; i < count; ++i)
      (void)backpressure::send_with_backpressure(dest, {"bench", "t", make(now_ns())}, policy);
  });
  std::size_t got = 0;
  auto last = start;
  while (got < count) {
    auto batch = cons->pop_batch(512);
    if (batch.empty()) {
      (void)sink.wait_not_empty(std::chrono::milliseconds(100));
      continue;
    }
    const auto t = now_ns();
    for (const auto& m : batch)
      loaded.push_back(static_cast<double>(t - std::stoull(std::string(m.payload))) / 1e3);
    got += batch.size();
    cons->commit();
    last = clock_type::now();
  }
  producer.join();
  n.msgs_per_s = static_cast<double>(count) / std::chrono::duration<double>(last - start).count();
  n.loaded_p50_us = percentile(loaded, 0.5);
  std::vector<double> lat;
  for (std::size_t i = 0; i < samples; ++i) {
    (void)backpressure::send_with_backpressure(dest, {"bench", "t", make(now_ns())}, policy);
    for (;;) {
      auto batch = cons->pop_batch(1);
      if (batch.empty()) {
        (void)sink.wait_not_empty(std::chrono::milliseconds(100));
        continue;
      }
      lat.push_back(static_cast<double>(now_ns() - std::stoull(std::string(batch[0].payload))) /
                    1e3);
      cons->commit();
      break;
    }
  }
  n.p50_us = percentile(lat, 0.5);
  n.p99_us = percentile(lat, 0.99);
  return n;
}

int run_bridge_bench(int argc, char** argv) {
  CLI::App app{"sluice-bench bridge: bridged vs local inbox, same run"};
  std::string exe = default_sluice();
  std::size_t count = 100000;
  std::size_t payload = 256;
  std::size_t samples = 2000;
  app.add_option("--sluice", exe, "the sluice executable that runs the bridges");
  app.add_option("--messages", count, "messages per throughput run (default 100000)");
  app.add_option("--payload", payload, "payload bytes (default 256)");
  app.add_option("--samples", samples, "one-at-a-time latency samples (default 2000)");
  CLI11_PARSE(app, argc, argv);

  char tmpl[] = "/tmp/sluice-bridge-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 71;
  const std::filesystem::path root = tmpl;
  const auto east_dir = root / "east";
  const auto west_dir = root / "west";
  child east = spawn_bridge(exe, east_dir, {"bridge", "--name", "east", "--listen", "127.0.0.1:0"});
  const auto port = east.pid > 0 ? read_port(east.out) : std::nullopt;
  if (!port) {
    std::fprintf(stderr, "sluice-bench bridge: the east bridge did not start (%s)\n", exe.c_str());
    stop(east);
    return 70;
  }
  child west =
      spawn_bridge(exe, west_dir,
                   {"bridge", "--name", "west", "--connect", "127.0.0.1:" + std::to_string(*port)});
  auto out = inbox::inbox::open_or_create(west_dir, "bridge-east");
  auto far = inbox::inbox::open_or_create(east_dir, "far");
  auto local = inbox::inbox::open_or_create(west_dir, "local");
  // The producer thread gets its own mapping: one inbox object per thread, as across processes.
  auto local_tx = inbox::inbox::open(west_dir, "local");
  if (!out || !far || !local || !local_tx) {
    std::fprintf(stderr, "sluice-bench bridge: cannot create the inboxes\n");
    stop(west);
    stop(east);
    return 71;
  }
  const auto bridged = measure_path(*out, *far, true, count, payload, samples);
  const auto direct = measure_path(*local_tx, *local, false, count, payload, samples);
  stop(west);
  stop(east);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);

  std::printf(
      "bridge over 127.0.0.1 vs local inbox, %zu B payload, %zu messages, %zu latency samples\n",
      payload, count, samples);
  std::printf("  %-26s %12s %14s %10s %10s\n", "path", "msgs/s", "p50 loaded us", "p50 us",
              "p99 us");
  std::printf("  %-26s %12.0f %14.1f %10.1f %10.1f\n", "local inbox", direct.msgs_per_s,
              direct.loaded_p50_us, direct.p50_us, direct.p99_us);
  std::printf("  %-26s %12.0f %14.1f %10.1f %10.1f\n", "bridged (2 bridges, tcp)",
              bridged.msgs_per_s, bridged.loaded_p50_us, bridged.p50_us, bridged.p99_us);
  std::printf("  bridged / local: throughput x%.3f, p50 latency x%.0f\n",
              direct.msgs_per_s > 0 ? bridged.msgs_per_s / direct.msgs_per_s : 0.0,
              direct.p50_us > 0 ? bridged.p50_us / direct.p50_us : 0.0);
  return 0;
}

const verb_registration reg{
    "bridge", "bridged (two sluice bridge processes over tcp) vs local inbox", run_bridge_bench};

}  // namespace
}  // namespace sluice::bench
