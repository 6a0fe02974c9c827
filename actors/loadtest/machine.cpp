#include "actors/loadtest/machine.hpp"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sstream>

#include "inbox/files/read_file.hpp"

namespace sluice::actors {

namespace {

std::string cpu_model() {
  std::istringstream in(inbox::read_file("/proc/cpuinfo", 4u << 20).text);
  std::string line;
  // x86 names it "model name"; some ARM kernels only "Hardware" or "Processor".
  for (const char* key : {"model name", "Hardware", "Processor", "cpu model"}) {
    in.clear();
    in.seekg(0);
    while (std::getline(in, line)) {
      if (line.rfind(key, 0) != 0) continue;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const auto start = line.find_first_not_of(" \t", colon + 1);
      if (start != std::string::npos) return line.substr(start);
    }
  }
  return "unknown";
}

}  // namespace

machine_info this_machine() {
  machine_info m;
  m.cpu = cpu_model();
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  m.cores = online > 0 ? static_cast<unsigned>(online) : 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  m.usable_cores = sched_getaffinity(0, sizeof set, &set) == 0
                       ? static_cast<unsigned>(CPU_COUNT(&set))
                       : m.cores;
  utsname u{};
  if (uname(&u) == 0) {
    m.kernel = std::string{u.sysname} + " " + u.release + " " + u.machine;
    m.hostname = u.nodename;
  }
  return m;
}

}  // namespace sluice::actors
