// One side of a bindings benchmark, in C++ over the same layer the Python module and the Node
// addon use (bindings/bus.hpp, bindings/receiver.hpp), so the three figures differ only by the
// language; the same roles as peer.py:
//   sluice-bench-peer sink|source|lat-sink|lat-source <bus dir> <n> [interval us]
//   sluice-bench-peer pipe-sink|pipe-source - <n> [interval us]   (stamps over stdin / stdout)
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bindings/bus.hpp"
#include "bindings/receiver.hpp"

namespace {

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Without sluice: n stamps read from stdin, one-way ns of each printed.
int pipe_sink(std::uint64_t n) {
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<std::int64_t> lat;
  std::vector<char> pending;
  char buf[4096];
  while (lat.size() < n) {
    const ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
    if (got <= 0) {
      std::fprintf(stderr, "pipe-sink: the source went away\n");
      return 1;
    }
    const std::int64_t t = now_ns();
    pending.insert(pending.end(), buf, buf + got);
    std::size_t at = 0;
    for (; pending.size() - at >= 8; at += 8) {
      std::int64_t sent = 0;
      std::memcpy(&sent, pending.data() + at, sizeof sent);
      lat.push_back(t - sent);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(at));
  }
  for (std::size_t i = 0; i < lat.size(); ++i)
    std::printf(i ? " %lld" : "%lld", static_cast<long long>(lat[i]));
  std::printf("\n");
  return 0;
}

int pipe_source(std::uint64_t n, std::chrono::microseconds interval) {
  for (std::uint64_t i = 0; i < n; ++i) {
    std::this_thread::sleep_for(interval);
    const std::int64_t t = now_ns();
    if (::write(STDOUT_FILENO, &t, sizeof t) != sizeof t) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice;
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: sluice-bench-peer sink|source|lat-sink|lat-source|pipe-sink|pipe-source "
                 "DIR N [US]\n");
    return 64;
  }
  const std::string role = argv[1];
  const std::uint64_t n = std::strtoull(argv[3], nullptr, 10);
  const auto interval = std::chrono::microseconds(argc > 4 ? std::atoi(argv[4]) : 200);
  if (role == "pipe-sink") return pipe_sink(n);
  if (role == "pipe-source") return pipe_source(n, interval);
  bindings::open_options opts;
  opts.dir = argv[2];
  auto bus = bindings::bus::open(opts);
  auto& w = bindings::plain_waiter();

  if (role == "sink" || role == "lat-sink") {
    bindings::receiver inbox(bus, "sink");
    std::printf("ready\n");
    std::fflush(stdout);
    std::uint64_t got = 0;
    std::vector<std::int64_t> lat;
    while (got < n) {
      const auto batch = inbox.pop_wait(1000, std::chrono::seconds(30), w);
      if (batch.size == 0) {
        std::fprintf(stderr, "sink: nothing for 30 s\n");
        return 1;
      }
      if (role == "lat-sink") {
        const std::int64_t t = now_ns();
        for (std::size_t i = 0; i < batch.size; ++i) {
          std::int64_t sent = 0;
          std::memcpy(&sent, batch.data[i].payload.data(), sizeof sent);
          lat.push_back(t - sent);
        }
      }
      got += batch.size;
      inbox.commit();
    }
    if (role == "sink") {
      std::printf("%lld\n", static_cast<long long>(now_ns()));
    } else {
      for (std::size_t i = 0; i < lat.size(); ++i)
        std::printf(i ? " %lld" : "%lld", static_cast<long long>(lat[i]));
      std::printf("\n");
    }
  } else if (role == "source") {
    const std::string payload(64, 'x');
    const std::int64_t start = now_ns();
    for (std::uint64_t i = 0; i < n; ++i) (void)bus->send("source", "sink", "m", payload, {}, w);
    std::printf("%lld\n", static_cast<long long>(start));
  } else if (role == "lat-source") {
    for (std::uint64_t i = 0; i < n; ++i) {
      std::this_thread::sleep_for(interval);
      const std::int64_t t = now_ns();
      (void)bus->send("source", "sink", "m",
                      std::string_view(reinterpret_cast<const char*>(&t), sizeof t), {}, w);
    }
  } else {
    std::fprintf(stderr, "unknown role %s\n", role.c_str());
    return 64;
  }
  return 0;
}
