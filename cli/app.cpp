// The `sluice` executable's verbs. Only CAF-free verbs are defined here, so `sluice` never
// loads libcaf; the actor verbs are forwarded to sluice-actors (cli/actor_verbs.hpp).
#include "cli/app.hpp"

#include <CLI/CLI.hpp>

#include "cli/forward.hpp"
#include "cli/verb.hpp"

namespace sluice::cli {

void add_bus_verbs(CLI::App& app, cli_state& state);
void add_send_verbs(CLI::App& app, cli_state& state);
void add_recv_verbs(CLI::App& app, cli_state& state);
void add_inspect_verbs(CLI::App& app, cli_state& state);
void add_doctor_verbs(CLI::App& app, cli_state& state);
void add_top_verbs(CLI::App& app, cli_state& state);

std::unique_ptr<CLI::App> make_app(cli_state& state) {
  auto app = make_base_app(state);
  add_bus_verbs(*app, state);
  add_send_verbs(*app, state);
  add_recv_verbs(*app, state);
  add_inspect_verbs(*app, state);
  add_doctor_verbs(*app, state);
  add_top_verbs(*app, state);
  add_forwarded_verbs(*app, state);
  return app;
}

}  // namespace sluice::cli
