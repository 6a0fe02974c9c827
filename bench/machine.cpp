#include "bench/machine.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <thread>

namespace sluice::bench {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

std::optional<std::string> pin_to_cpus(const std::vector<int>& cpus) {
  const auto allowed = allowed_cpus();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) {
    if (std::find(allowed.begin(), allowed.end(), c) == allowed.end()) {
      std::string have;
      for (int a : allowed) have += (have.empty() ? "" : ",") + std::to_string(a);
      return "CPU " + std::to_string(c) + " is not available to this process (it may use " + have +
             ")";
    }
    CPU_SET(c, &set);
  }
  if (::sched_setaffinity(0, sizeof set, &set) != 0)
    return std::string("sched_setaffinity: ") + std::strerror(errno);
  return std::nullopt;
}

std::optional<std::vector<int>> parse_cpu_list(const std::string& list) {
  std::vector<int> cpus;
  std::stringstream in(list);
  for (std::string part; std::getline(in, part, ',');) {
    const auto dash = part.find('-');
    try {
      std::size_t used = 0;
      const int first = std::stoi(part.substr(0, dash), &used);
      if (used != part.substr(0, dash).size()) return std::nullopt;
      int last = first;
      if (dash != std::string::npos) {
        last = std::stoi(part.substr(dash + 1), &used);
        if (used != part.size() - dash - 1) return std::nullopt;
      }
      if (first < 0 || last < first || last >= CPU_SETSIZE) return std::nullopt;
      for (int c = first; c <= last; ++c) cpus.push_back(c);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (cpus.empty()) return std::nullopt;
  return cpus;
}

namespace {

void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

// An eventfd's read and write move 8 bytes or fail; only a signal makes them worth retrying.
void write_token(int fd) {
  const std::uint64_t one = 1;
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void read_token(int fd) {
  std::uint64_t v = 0;
  while (::read(fd, &v, sizeof v) < 0 && errno == EINTR) {
  }
}

// Median of half the round trips between a thread on cpu_a and one on cpu_b.
double ping_pong_p50_us(int cpu_a, int cpu_b, unsigned round_trips) {
  const int to_b = ::eventfd(0, EFD_CLOEXEC);
  const int to_a = ::eventfd(0, EFD_CLOEXEC);
  if (to_b < 0 || to_a < 0) return -1;
  std::vector<double> half_us;
  half_us.reserve(round_trips);
  std::thread b([&] {
    pin_this_thread(cpu_b);
    for (unsigned i = 0; i < round_trips; ++i) {
      read_token(to_b);
      write_token(to_a);
    }
  });
  std::thread a([&] {
    pin_this_thread(cpu_a);
    for (unsigned i = 0; i < round_trips; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      write_token(to_b);
      read_token(to_a);
      const auto rt = std::chrono::steady_clock::now() - t0;
      half_us.push_back(std::chrono::duration<double, std::micro>(rt).count() / 2);
    }
  });
  a.join();
  b.join();
  ::close(to_a);
  ::close(to_b);
  std::nth_element(half_us.begin(), half_us.begin() + half_us.size() / 2, half_us.end());
  return half_us[half_us.size() / 2];
}

}  // namespace

wake_cost measure_wake_cost(unsigned round_trips) {
  wake_cost w;
  const auto cpus = allowed_cpus();
  if (cpus.empty() || round_trips == 0) return w;
  if (cpus.size() > 1) w.other_cpu_p50_us = ping_pong_p50_us(cpus[0], cpus[1], round_trips);
  w.same_cpu_p50_us = ping_pong_p50_us(cpus[0], cpus[0], round_trips);
  return w;
}

}  // namespace sluice::bench
