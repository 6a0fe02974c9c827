// A worker with faults to order, for the demos and the tests:
//   --delay-us N      take N microseconds per task (the swarm's deliberately slow worker)
//   --crash-every N   die (exit 3) in the middle of a batch after every N tasks, without
//                     committing it: the batch comes back after the restart, nothing is lost
//   --crashes K       crash only in the first K runs: later runs (launch counts them in
//                     $SLUICE_RESTARTS) work on, so the restarts stay within max_restarts
//                     however large this worker's share of the work is
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "actors/agent/agent.hpp"

int main(int argc, char** argv) {
  using namespace sluice;
  long delay_us = 0;
  long crash_every = 0;
  long crashes = -1;  // no limit
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--delay-us") == 0)
      delay_us = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "--crash-every") == 0)
      crash_every = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "--crashes") == 0)
      crashes = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: faulty_worker [--delay-us N] [--crash-every N] [--crashes K]\n");
      return 64;
    }
  }
  const char* restarts = std::getenv("SLUICE_RESTARTS");
  if (crashes >= 0 && restarts && std::atol(restarts) >= crashes) crash_every = 0;
  long handled = 0;
  actors::agent_handlers h;
  h.on_message = [&](actors::agent& self, const inbox::received_message& task) {
    if (task.type != "task") return;
    if (delay_us > 0) ::usleep(static_cast<useconds_t>(delay_us));
    self.reply(task, "result", task.payload);
    if (crash_every > 0 && ++handled % crash_every == 0) {
      std::printf("crashing after %ld tasks (batch not committed)\n", handled);
      std::fflush(stdout);
      std::_Exit(3);
    }
  };
  return actors::run_agent(std::move(h));
}
