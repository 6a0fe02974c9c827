// The canonical sluice worker: every "task" is answered with a "result" to its sender.
// Run it under `sluice launch` (see swarm.toml), which names it and points it at the bus.
#include <string>

#include "actors/agent/agent.hpp"

int main() {
  using namespace sluice;
  actors::agent_handlers worker;
  worker.on_message = [](actors::agent& self, const inbox::received_message& task) {
    if (task.type != "task") return;
    // The work: here just an echo. reply() backs off while the sender's inbox is full.
    self.reply(task, "result", task.payload);
  };
  // Pumps this agent's inbox in batches (size from bus.ctl) until SIGTERM.
  return actors::run_agent(std::move(worker));
}
