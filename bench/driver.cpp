// Forks producers and a consumer around a transport and measures throughput and one-way
// latency. Processes, not threads: that is how agents use an inbox, and it keeps transports
// honest (no shared heap, no shared caches of file descriptors).
//
// Throughput: every producer sends its share as fast as it can (batched where the transport
// has a batch API), the consumer spins; msgs/s = total / (last receive - start).
// Latency: every producer sends one message every `pace`, stamped with CLOCK_MONOTONIC; the
// consumer takes the difference on receipt. Paced, so it measures hand-over, not queueing.
// Each producer first sends one ring's worth of unstamped messages that are not measured:
// fresh processes take page faults on their first pass over a ring (every transport does),
// which is start-up cost, not hand-over; without the warm-up half of a run's samples were
// first-pass ones and p99 measured page faults.
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <vector>

#include "bench/bench.hpp"

namespace sluice::bench {
namespace {

std::uint64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// How often the scheduler has taken the CPU from this process (ru_nivcsw): a spinning
// consumer that is preempted delays whatever arrives meanwhile, whatever the transport.
long involuntary_switches() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_nivcsw;
}

// No single run lasts longer than this (see run_once).
constexpr std::uint64_t run_cap_ns = 3'000'000'000;

// Lives in an anonymous shared mapping created before fork, so every child sees it.
struct control {
  std::atomic<std::uint32_t> ready;
  std::atomic<std::uint32_t> go;
  std::uint64_t elapsed_ns;
  std::uint64_t received;
  std::uint32_t capped;    // the consumer stopped at run_cap before everything arrived
  std::uint64_t checksum;  // keeps the consumer's reads of each payload observable
  std::uint64_t sample_count;
  std::uint64_t consumer_preemptions;  // ru_nivcsw over the latency run
  std::uint64_t consumer_ns;
  std::uint64_t samples[1];  // latency samples in ns (sized at mapping time)
};

class shared_control {
 public:
  explicit shared_control(std::size_t samples)
      : bytes_(sizeof(control) + samples * sizeof(std::uint64_t)),
        c_(static_cast<control*>(
            ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0))) {
    if (c_ == MAP_FAILED) throw std::runtime_error("mmap of the bench control block failed");
  }
  ~shared_control() { ::munmap(c_, bytes_); }
  control* operator->() const { return c_; }

 private:
  std::size_t bytes_;
  control* c_;
};

void wait_go(control* c) {
  c->ready.fetch_add(1);
  while (c->go.load() == 0) ::sched_yield();
}

int reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

template <class F>
pid_t spawn(F fn) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int rc = 1;
    try {
      rc = fn();
    } catch (...) {
      rc = 2;
    }
    ::_exit(rc);
  }
  return pid;
}

// --pin (run_options::pin_consumer): CPU 0 for the consumer, every other CPU for producers.
void pin_to(bool consumer) {
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (consumer) {
    CPU_SET(0, &set);
  } else {
    for (long cpu = 1; cpu < cpus; ++cpu) CPU_SET(static_cast<int>(cpu), &set);
  }
  (void)::sched_setaffinity(0, sizeof set, &set);
}

// Runs producers and a consumer once; returns false if a child failed.
template <class Produce, class Consume>
bool run_once(transport& t, const endpoint_config& cfg, const run_options& opts, control* c,
              Produce produce, Consume consume) {
  c->ready = 0;
  c->go = 0;
  c->capped = 0;
  t.setup(cfg);
  std::vector<pid_t> kids;
  kids.push_back(spawn([&] {
    if (opts.pin_consumer) pin_to(true);
    auto r = t.open_receiver();
    wait_go(c);
    return consume(*r);
  }));
  for (std::uint32_t i = 0; i < cfg.producers; ++i) {
    kids.push_back(spawn([&, i] {
      if (opts.pin_consumer) pin_to(false);
      auto s = t.open_sender(i);
      wait_go(c);
      return produce(*s, i);
    }));
  }
  while (c->ready.load() < cfg.producers + 1) ::sched_yield();
  c->go.store(1);
  // The consumer gives up after run_cap; producers still blocked in a full transport are then
  // killed, so one slow transport on a busy machine cannot hold up the whole run.
  bool ok = reap(kids[0]) == 0;
  for (std::size_t i = 1; i < kids.size(); ++i) {
    if (c->capped) ::kill(kids[i], SIGKILL);
    ok = (reap(kids[i]) == 0 || c->capped) && ok;
  }
  t.teardown();
  return ok;
}

double throughput_once(transport& t, const endpoint_config& cfg, const run_options& opts,
                       control* c) {
  const std::uint64_t total = t.throughput_messages() / cfg.producers * cfg.producers;
  const std::uint64_t share = total / cfg.producers;
  constexpr std::size_t chunk = 32;
  std::vector<char> buf(chunk * cfg.payload, 'p');
  const bool ok = run_once(
      t, cfg, opts, c,
      [&](sender& s, std::uint32_t) {
        for (std::uint64_t sent = 0; sent < share;) {
          const std::size_t n =
              static_cast<std::size_t>(std::min<std::uint64_t>(chunk, share - sent));
          for (std::size_t i = 0; i < n; ++i)
            std::memcpy(&buf[i * cfg.payload], &sent, sizeof sent);
          s.send_many(buf.data(), cfg.payload, n);
          sent += n;
        }
        return 0;
      },
      [&](receiver& r) {
        const std::uint64_t start = now_ns();
        std::uint64_t got = 0;
        std::uint64_t checksum = 0;
        const on_message fn = [&](const char* data, std::size_t size) {
          std::uint64_t v = 0;
          std::memcpy(&v, data, std::min(size, sizeof v));
          checksum += v;
          ++got;
        };
        while (got < total && now_ns() - start < run_cap_ns) r.receive(false, fn);
        c->elapsed_ns = now_ns() - start;
        c->capped = got < total ? 1 : 0;
        c->received = got;
        c->checksum = checksum;
        return 0;
      });
  if (!ok || c->elapsed_ns == 0) return 0;
  return static_cast<double>(c->received) * 1e9 / static_cast<double>(c->elapsed_ns);
}

struct percentiles {
  double p50 = 0;
  double p99 = 0;
  double consumer_preemptions_per_s = 0;  // involuntary context switches of the consumer
};

percentiles latency_once(transport& t, const endpoint_config& cfg, control* c, bool sleeping,
                         const run_options& opts) {
  const std::uint32_t samples = opts.latency_samples;
  const std::uint64_t total = static_cast<std::uint64_t>(samples) * cfg.producers;
  const std::uint32_t warmup = opts.latency_warmup;
  const std::uint64_t expected = total + static_cast<std::uint64_t>(warmup) * cfg.producers;
  const std::uint64_t pace_ns = 50'000;
  std::vector<char> buf(cfg.payload, 'l');
  const bool ok = run_once(
      t, cfg, opts, c,
      [&](sender& s, std::uint32_t index) {
        // Stagger producers so their sends do not all land at the same instant.
        std::uint64_t next = now_ns() + index * pace_ns / cfg.producers;
        for (std::uint32_t i = 0; i < warmup + samples; ++i) {
          while (now_ns() < next) {
            const std::uint64_t left = next - now_ns();
            if (left > 20'000) {
              timespec ts{0, static_cast<long>(left - 10'000)};
              ::nanosleep(&ts, nullptr);
            }
          }
          const std::uint64_t stamp = i < warmup ? 0 : now_ns();  // 0: warm-up, not measured
          std::memcpy(buf.data(), &stamp, sizeof stamp);
          s.send(buf.data(), cfg.payload);
          next += pace_ns;
        }
        return 0;
      },
      [&](receiver& r) {
        std::uint64_t got = 0;
        std::uint64_t measured = 0;
        const on_message fn = [&](const char* data, std::size_t size) {
          const std::uint64_t now = now_ns();
          std::uint64_t stamp = 0;
          if (size >= sizeof stamp) std::memcpy(&stamp, data, sizeof stamp);
          if (stamp != 0 && measured < total) c->samples[measured++] = now - stamp;
          ++got;
        };
        const std::uint64_t start = now_ns();
        const long preempted_before = involuntary_switches();
        while (got < expected && now_ns() - start < run_cap_ns) r.receive(sleeping, fn);
        c->consumer_preemptions =
            static_cast<std::uint64_t>(involuntary_switches() - preempted_before);
        c->consumer_ns = now_ns() - start;
        c->sample_count = measured;
        c->capped = got < expected ? 1 : 0;
        return 0;
      });
  if (!ok) return {};
  std::vector<std::uint64_t> v(c->samples,
                               c->samples + std::min<std::uint64_t>(c->sample_count, total));
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  return {static_cast<double>(v[v.size() / 2]) / 1e3,
          static_cast<double>(v[v.size() * 99 / 100]) / 1e3,
          static_cast<double>(c->consumer_preemptions) * 1e9 /
              static_cast<double>(std::max<std::uint64_t>(c->consumer_ns, 1))};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

case_result measure(transport& t, const endpoint_config& cfg, const run_options& opts) {
  shared_control c(static_cast<std::size_t>(opts.latency_samples) * cfg.producers);
  case_result r;
  r.transport = t.name();
  r.producers = cfg.producers;
  r.payload = cfg.payload;
  std::vector<double> tp, p50, p99, s50, s99;
  // SLUICE_BENCH_VERBOSE=1 prints every run, to tell a bimodal case from a noisy one.
  const bool verbose = std::getenv("SLUICE_BENCH_VERBOSE") != nullptr;
  for (int i = 0; i < opts.runs; ++i) {
    tp.push_back(throughput_once(t, cfg, opts, c.operator->()));
    if (verbose)
      std::fprintf(stderr, "  %s %u x %u B run %d: %.0f msgs/s\n", r.transport.c_str(),
                   cfg.producers, cfg.payload, i + 1, tp.back());
    const auto spin = latency_once(t, cfg, c.operator->(), false, opts);
    p50.push_back(spin.p50);
    p99.push_back(spin.p99);
    if (verbose)
      std::fprintf(stderr,
                   "  %s %u x %u B run %d: spinning p50 %.2f us p99 %.2f us, consumer "
                   "preempted %.0f times/s\n",
                   r.transport.c_str(), cfg.producers, cfg.payload, i + 1, spin.p50, spin.p99,
                   spin.consumer_preemptions_per_s);
    if (t.can_sleep()) {
      const auto sleep = latency_once(t, cfg, c.operator->(), true, opts);
      s50.push_back(sleep.p50);
      s99.push_back(sleep.p99);
    }
  }
  r.msgs_per_s = median(tp);
  r.p50_us = median(p50);
  r.p99_us = median(p99);
  if (t.can_sleep()) {
    r.p50_sleep_us = median(s50);
    r.p99_sleep_us = median(s99);
  }
  return r;
}

std::vector<verb>& verbs() {
  static std::vector<verb> all;
  return all;
}

verb_registration::verb_registration(const char* name, const char* help, verb_fn fn) {
  verbs().push_back(verb{name, help, fn});
}

}  // namespace sluice::bench
