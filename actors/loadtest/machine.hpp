#pragma once
// The machine a load test ran on, for result.json: results from different machines are not
// comparable, and a script comparing them should be able to tell.
#include <string>

namespace sluice::actors {

struct machine_info {
  std::string cpu;            // /proc/cpuinfo's model name ("unknown" when it has none)
  unsigned cores = 0;         // online logical CPUs
  unsigned usable_cores = 0;  // of those, the ones this process may run on (its affinity)
  std::string kernel;         // uname: "Linux 6.1.0-18-amd64 x86_64"
  std::string hostname;
};

machine_info this_machine();

}  // namespace sluice::actors
