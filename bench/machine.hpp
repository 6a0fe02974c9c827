#pragma once
// What the machine itself charges, printed beside a benchmark's numbers so they can be read
// against it: what one thread waking another costs, on another CPU and on the same one (the
// CPU's name is actors::this_machine(), actors/loadtest/machine.hpp). On a VM an idle vCPU halts,
// and waking it goes through the hypervisor: on the 2-vCPU VMs this project is measured on, that
// wake-up, not any code path, is most of a one-at-a-time latency.
#include <optional>
#include <string>
#include <vector>

namespace sluice::bench {

// The CPUs this process may run on (sched_getaffinity), in order.
std::vector<int> allowed_cpus();

// Pins this process (and so every thread and child it starts later) to `cpus`. Returns an
// error line when a CPU is not available.
std::optional<std::string> pin_to_cpus(const std::vector<int>& cpus);

// "0", "0-1", "0,2-3" -> the CPUs; nullopt when the list does not parse.
std::optional<std::vector<int>> parse_cpu_list(const std::string& list);

struct wake_cost {
  double other_cpu_p50_us = -1;  // -1: only one CPU allowed
  double same_cpu_p50_us = -1;
};

// Two threads hand a token back and forth through a pair of eventfds, each blocking in read()
// until the other writes: half a round trip is one wake-up plus two system calls. Measured
// with the threads on two different allowed CPUs, then on one.
wake_cost measure_wake_cost(unsigned round_trips = 2000);

}  // namespace sluice::bench
