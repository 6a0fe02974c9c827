// sluice-bench bridge: two `sluice bridge` processes over 127.0.0.1 (plain and with TLS) beside
// the same producer/consumer pair on one local inbox, and beside Redis and NATS when their
// servers are installed (Debian's redis-server and nats-server; the bench starts them on free
// ports of 127.0.0.1 in a scratch directory and stops them). Every path runs in the same
// invocation, interleaved round by round, and each number is the median of the rounds.
// The sluice executable is found next to this build (../cli/sluice) or given with --sluice.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "actors/loadtest/machine.hpp"
#include "bench/bench.hpp"
#include "bench/bridge/paths.hpp"
#include "bench/machine.hpp"

namespace sluice::bench {
namespace {

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

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return x < 0; }), v.end());
  return v.empty() ? -1 : percentile(v, 0.5);
}

// Every round's numbers for one path, reduced to medians.
struct series {
  std::vector<double> rate, loaded, p50, p99;
  std::uint64_t lost = 0;
  void add(const path_numbers& n) {
    rate.push_back(n.msgs_per_s);
    loaded.push_back(n.loaded_p50_us);
    p50.push_back(n.p50_us);
    p99.push_back(n.p99_us);
    lost += n.lost;
  }
  [[nodiscard]] bool empty() const { return rate.empty(); }
};

std::string us(double v) {
  if (v < 0) return "-";
  char b[32];
  std::snprintf(b, sizeof b, v < 100 ? "%.1f" : "%.0f", v);
  return b;
}

int run_bridge_bench(int argc, char** argv) {
  CLI::App app{"sluice-bench bridge: bridged vs local inbox vs Redis vs NATS, same run"};
  bridge_setup setup;
  setup.sluice = default_sluice();
  workload w;
  int rounds = 3;
  bool with_tls = true;
  bool with_redis = true;
  bool with_nats = true;
  app.add_option("--sluice", setup.sluice, "the sluice executable that runs the bridges");
  app.add_option("--messages", w.messages, "messages per throughput run (default 200000)");
  app.add_option("--payload", w.payload, "payload bytes (default 256)");
  app.add_option("--samples", w.samples, "one-at-a-time latency samples (default 2000)");
  app.add_option("--runs", rounds, "rounds; each number is their median (default 3)");
  app.add_flag("!--no-tls", with_tls, "skip the TLS bridge");
  app.add_flag("!--no-redis", with_redis, "skip Redis even if redis-server is installed");
  app.add_flag("!--no-nats", with_nats, "skip NATS even if nats-server is installed");
  std::string cpu_list;
  app.add_option("--cpus", cpu_list,
                 "run the bench and everything it starts on these CPUs only (\"0\", \"0-1\"): "
                 "with one, no message waits for another CPU to wake up");
  CLI11_PARSE(app, argc, argv);
  if (!cpu_list.empty()) {
    const auto cpus = parse_cpu_list(cpu_list);
    if (!cpus) {
      std::fprintf(stderr, "sluice-bench bridge: --cpus %s: give CPUs as 0, 0-1 or 0,2\n",
                   cpu_list.c_str());
      return 64;
    }
    if (auto err = pin_to_cpus(*cpus)) {
      std::fprintf(stderr, "sluice-bench bridge: --cpus %s: %s\n", cpu_list.c_str(), err->c_str());
      return 64;
    }
  }
  const wake_cost wake = measure_wake_cost();

  char tmpl[] = "/tmp/sluice-bridge-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 71;
  const std::filesystem::path root = tmpl;
  setup.dir = root / "plain";
  bridge_setup tls = setup;
  tls.dir = root / "tls";
  if (with_tls && !make_bridge_certs(root / "certs", tls)) {
    std::fprintf(stderr,
                 "sluice-bench bridge: no openssl command to make certificates; no TLS run\n");
    with_tls = false;
  }
  const auto redis = with_redis ? find_program("redis-server") : std::string{};
  const auto nats = with_nats ? find_program("nats-server") : std::string{};

  std::map<std::string, series> s;
  const char* local = "local inbox";
  const char* plain = "sluice bridge, tcp";
  const char* floor = "bare relay (the floor)";
  const char* secure = "sluice bridge, TLS";
  const char* lpush = "redis LPUSH pipelined (alone)";
  const char* brpop = "redis LPUSH pipelined + BRPOP";
  const char* nats_row = "nats pub -> sub";
  for (int r = 0; r < rounds; ++r) {
    if (auto n = measure_local_inbox(root / "local", w)) s[local].add(*n);
    if (auto n = measure_bridge(setup, w)) s[plain].add(*n);
    if (auto n = measure_bare_relay(root / "relay", w)) s[floor].add(*n);
    if (with_tls)
      if (auto n = measure_bridge(tls, w)) s[secure].add(*n);
    if (!redis.empty())
      if (auto n = measure_redis(redis, root / "redis", w)) {
        s[lpush].add(n->lpush_only);
        s[brpop].add(n->lpush_brpop);
      }
    if (!nats.empty())
      if (auto n = measure_nats(nats, root / "nats", w)) s[nats_row].add(*n);
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);

  const double local_rate = s.count(local) ? median(s[local].rate) : -1;
  std::printf(
      "sluice-bench bridge: %zu B payload, %zu messages per throughput run, %zu "
      "one-at-a-time latency samples, median of %d rounds, everything on 127.0.0.1\n",
      w.payload, w.messages, w.samples, rounds);
  const auto machine = actors::this_machine();
  std::printf(
      "machine: %s, %u of %u CPUs in use%s; a thread waking another: %s us on another "
      "CPU, %s us on the same one (p50)\n",
      machine.cpu.c_str(), machine.usable_cores, machine.cores,
      cpu_list.empty() ? "" : (" (--cpus " + cpu_list + ")").c_str(),
      us(wake.other_cpu_p50_us).c_str(), us(wake.same_cpu_p50_us).c_str());
  std::printf("  %-32s %12s %9s %14s %9s %9s\n", "path", "msgs/s", "x local", "p50 loaded us",
              "p50 us", "p99 us");
  for (const char* name : {local, plain, floor, secure, lpush, brpop, nats_row}) {
    if (!s.count(name) || s[name].empty()) continue;
    auto& x = s[name];
    const double rate = median(x.rate);
    std::printf("  %-32s %12.0f %9.3f %14s %9s %9s", name, rate,
                local_rate > 0 ? rate / local_rate : 0.0, us(median(x.loaded)).c_str(),
                us(median(x.p50)).c_str(), us(median(x.p99)).c_str());
    if (x.lost > 0) std::printf("  (%llu lost)", static_cast<unsigned long long>(x.lost));
    std::printf("\n");
  }
  if (s.count(plain)) {
    const double bridged = median(s[plain].rate);
    if (s.count(lpush))
      std::printf("  bridge / redis pipelined LPUSH alone: x%.2f\n",
                  bridged / median(s[lpush].rate));
    if (s.count(secure))
      std::printf("  TLS costs %.0f %% of the bridge's throughput and %+.1f us of its p50\n",
                  100.0 * (1.0 - median(s[secure].rate) / bridged),
                  median(s[secure].p50) - median(s[plain].p50));
  }
  std::printf(
      "how: bridges: one producer thread sends with backpressure into bridge-east (one "
      "message per send), a consumer pops far in batches of 512 and sleeps on its "
      "doorbell; TLS: CAF's OpenSSL module, P-256 certificates from one CA; bare relay: the "
      "same inboxes and topology, two processes that only pop, write, read and push (no CAF, "
      "acknowledgements or credit): what any bridge of this shape costs at least\n");
  if (!redis.empty())
    std::printf("how: %s; %s\n", version_of(redis).c_str(), redis_setup_note);
  else if (!with_redis)
    std::printf("how: --no-redis: no Redis rows\n");
  else
    std::printf("how: no redis-server installed (apt-get install redis-server): no Redis rows\n");
  if (!nats.empty())
    std::printf("how: %s; %s\n", version_of(nats).c_str(), nats_setup_note);
  else if (!with_nats)
    std::printf("how: --no-nats: no NATS row\n");
  else
    std::printf("how: no nats-server installed (apt-get install nats-server): no NATS row\n");
  return 0;
}

const verb_registration reg{"bridge",
                            "sluice bridge (tcp, TLS) vs local inbox vs Redis vs NATS, same run",
                            run_bridge_bench};

}  // namespace
}  // namespace sluice::bench
