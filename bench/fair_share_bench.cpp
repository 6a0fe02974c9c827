// `sluice-bench fair-share [--seconds S] [--json]`: what fair share between senders buys
// (docs/architecture.md, "Fair share"). Processes, forked: one slow consumer (one message every
// 200 us), four polite senders (one message every 5 ms each, send_with_backpressure with a 1 s
// deadline, the CLI's default backoff) and, in two of the three scenarios, a flooder that
// sends as fast as the inbox lets it. Per scenario: the polite senders' send latency (p50, p99,
// max, from the call to its return, waits included) and failures (sends that did not get in).
//   polite only:          the baseline
//   flood, share off:     every process with inbox::share_fairly(false), i.e. without the rule
//   flood, fair share:    the default
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "backpressure/send.hpp"
#include "bench/bench.hpp"
#include "inbox/inbox.hpp"

namespace sluice::bench {
namespace {

constexpr int polite_senders = 4;
constexpr auto polite_period = std::chrono::milliseconds(5);
constexpr auto consumer_period = std::chrono::microseconds(200);

struct scenario {
  const char* name;
  bool flood;
  bool share;
};
constexpr scenario scenarios[] = {{"polite only", false, true},
                                  {"flood, share off", true, false},
                                  {"flood, fair share", true, true}};

struct figures {
  std::size_t sends = 0;
  std::size_t failures = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;
  std::uint64_t flood_sent = 0;
  std::uint64_t fair_share_refusals = 0;
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sleep_until_ns(std::int64_t t) {
  const timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

inbox::inbox open_sink(const std::filesystem::path& dir, bool share) {
  auto in = inbox::inbox::open(dir, "sink");
  if (!in) ::_exit(3);
  in.value().share_fairly(share);
  return std::move(in.value());
}

// A child: one polite sender; writes each send's latency (ns, -1 for a failure) to `out`.
[[noreturn]] void polite(const std::filesystem::path& dir, int index, bool share,
                         std::int64_t until, int out) {
  auto in = open_sink(dir, share);
  const std::string from = "polite-" + std::to_string(index);
  backpressure::send_policy policy;
  policy.deadline = std::chrono::seconds(1);
  std::vector<std::int64_t> lat;
  for (std::int64_t next = now_ns(); next < until;
       next += std::chrono::nanoseconds(polite_period).count()) {
    sleep_until_ns(next);
    const std::int64_t t0 = now_ns();
    const auto r =
        backpressure::send_with_backpressure(in, {from, "task", "polite payload"}, policy);
    lat.push_back(r.status == backpressure::send_status::sent ? now_ns() - t0 : -1);
  }
  (void)!::write(out, lat.data(), lat.size() * sizeof lat[0]);
  ::_exit(0);
}

[[noreturn]] void flooder(const std::filesystem::path& dir, bool share, std::int64_t until,
                          int out) {
  auto in = open_sink(dir, share);
  backpressure::send_policy policy;
  policy.deadline = std::chrono::seconds(2);
  std::uint64_t sent = 0;
  while (now_ns() < until)
    sent += backpressure::send_with_backpressure(in, {"flood", "task", "flood payload"}, policy)
                        .status == backpressure::send_status::sent
                ? 1
                : 0;
  (void)!::write(out, &sent, sizeof sent);
  ::_exit(0);
}

[[noreturn]] void consumer(const std::filesystem::path& dir, std::int64_t until) {
  auto in = inbox::inbox::open(dir, "sink");
  if (!in) ::_exit(3);
  auto c = in.value().attach_consumer();
  if (!c) ::_exit(3);
  for (std::int64_t next = now_ns(); next < until + 500'000'000;
       next += std::chrono::nanoseconds(consumer_period).count()) {
    sleep_until_ns(next);
    (void)c.value().pop_batch(1);
    c.value().commit();
  }
  ::_exit(0);
}

std::vector<char> drain(int fd) {
  std::vector<char> all;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    all.insert(all.end(), buf, buf + n);
  }
  ::close(fd);
  return all;
}

template <class Fn>
int spawn_with_pipe(pid_t& pid, Fn child) {
  int p[2];
  if (::pipe(p) != 0) throw std::runtime_error("pipe failed");
  pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(p[0]);
    child(p[1]);
  }
  ::close(p[1]);
  return p[0];
}

figures run_scenario(const scenario& sc, double seconds) {
  std::string tmpl = "/dev/shm/sluice-fair-share-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp in /dev/shm failed");
  const std::filesystem::path dir = tmpl;
  {
    auto made = inbox::inbox::open_or_create(dir, "sink");
    if (!made) throw std::runtime_error("cannot create the inbox: " + made.err().message);
  }
  const std::int64_t start = now_ns() + 100'000'000;  // every process started by then
  const std::int64_t until = start + static_cast<std::int64_t>(seconds * 1e9);
  std::vector<pid_t> pids;
  pid_t pid = 0;
  if (::fork() == 0) consumer(dir, until);
  std::vector<int> polite_fds;
  for (int i = 0; i < polite_senders; ++i) {
    polite_fds.push_back(spawn_with_pipe(pid, [&](int out) {
      sleep_until_ns(start);
      polite(dir, i, sc.share, until, out);
    }));
  }
  int flood_fd = -1;
  if (sc.flood)
    flood_fd = spawn_with_pipe(pid, [&](int out) {
      sleep_until_ns(start - 50'000'000);  // fills the inbox first
      flooder(dir, sc.share, until, out);
    });
  figures f;
  std::vector<std::int64_t> ok;
  for (const int fd : polite_fds) {
    const auto bytes = drain(fd);
    for (std::size_t i = 0; i + sizeof(std::int64_t) <= bytes.size(); i += sizeof(std::int64_t)) {
      std::int64_t v = 0;
      std::memcpy(&v, bytes.data() + i, sizeof v);
      ++f.sends;
      if (v < 0) {
        ++f.failures;
      } else {
        ok.push_back(v);
      }
    }
  }
  if (flood_fd >= 0) {
    const auto bytes = drain(flood_fd);
    if (bytes.size() == sizeof f.flood_sent)
      std::memcpy(&f.flood_sent, bytes.data(), sizeof f.flood_sent);
  }
  while (::wait(nullptr) > 0 || errno == EINTR) {
  }
  {
    auto in = inbox::inbox::open(dir, "sink");
    if (in) f.fair_share_refusals = in.value().snapshot().fair_share_refusals;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::sort(ok.begin(), ok.end());
  auto pct = [&](double q) {
    return ok.empty() ? 0.0
                      : static_cast<double>(
                            ok[std::min(ok.size() - 1, static_cast<std::size_t>(q * ok.size()))]) /
                            1e3;
  };
  f.p50_us = pct(0.50);
  f.p99_us = pct(0.99);
  f.max_us = ok.empty() ? 0.0 : static_cast<double>(ok.back()) / 1e3;
  return f;
}

int run_fair_share(int argc, char** argv) {
  CLI::App app{
      "polite senders' latency and failures beside a flooding sender, with and without fair share",
      "sluice-bench fair-share"};
  double seconds = 3;
  bool json = false;
  app.add_option("--seconds", seconds, "length of each scenario")->check(CLI::Range(0.5, 600.0));
  app.add_flag("--json", json, "print the figures as JSON");
  CLI11_PARSE(app, argc, argv);
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  if (!json)
    std::printf(
        "%d polite senders (one send / %lld ms each) and a slow consumer (one message / %lld us), "
        "%.1f s each:\n",
        polite_senders, static_cast<long long>(polite_period.count()),
        static_cast<long long>(consumer_period.count()), seconds);
  for (const auto& sc : scenarios) {
    const figures f = run_scenario(sc, seconds);
    if (json) {
      out.push_back({{"scenario", sc.name},
                     {"polite_sends", f.sends},
                     {"polite_failures", f.failures},
                     {"polite_p50_us", f.p50_us},
                     {"polite_p99_us", f.p99_us},
                     {"polite_max_us", f.max_us},
                     {"flood_sent", f.flood_sent},
                     {"fair_share_refusals", f.fair_share_refusals}});
    } else {
      std::printf(
          "  %-18s polite: %5zu sends, %4zu failed, p50 %9.1f us, p99 %9.1f us, max %9.1f us; "
          "flood sent %8llu, share refusals %llu\n",
          sc.name, f.sends, f.failures, f.p50_us, f.p99_us, f.max_us,
          static_cast<unsigned long long>(f.flood_sent),
          static_cast<unsigned long long>(f.fair_share_refusals));
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  return 0;
}

const verb_registration reg{
    "fair-share", "polite senders beside a flood, with and without fair share", run_fair_share};

}  // namespace
}  // namespace sluice::bench
