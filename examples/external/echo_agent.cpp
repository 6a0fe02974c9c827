// The README's C++ agent, built against an installed sluice (see CMakeLists.txt): every
// "task" is answered with a "result" to its sender. Run it under `sluice launch`, or with
// SLUICE_AGENT and SLUICE_DIR (or SLUICE_BUS) set.
#include "actors/agent/agent.hpp"

int main() {
  using namespace sluice;
  actors::agent_handlers worker;
  worker.on_message = [](actors::agent& self, const inbox::received_message& task) {
    if (task.type != "task") return;
    self.reply(task, "result", task.payload);
  };
  return actors::run_agent(std::move(worker));
}
