// The `sluice` executable's verbs. Only CAF-free verbs are defined here, so `sluice` never
// loads libcaf; the actor verbs are forwarded to their sluice-<feature> executables
// (runtime/cli/actor_verbs.hpp).
#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <vector>

#include "runtime/cli/actor_verbs.hpp"
#include "runtime/cli/verb.hpp"

namespace sluice::cli {

void add_bus_verbs(CLI::App& app, cli_state& state);
void add_send_verbs(CLI::App& app, cli_state& state);
void add_recv_verbs(CLI::App& app, cli_state& state);
void add_inspect_verbs(CLI::App& app, cli_state& state);
void add_doctor_verbs(CLI::App& app, cli_state& state);
void add_top_verbs(CLI::App& app, cli_state& state);
void add_config_verbs(CLI::App& app, cli_state& state);
void add_policy_verbs(CLI::App& app, cli_state& state);
void add_acquire_verbs(CLI::App& app, cli_state& state);
void add_forwarded_verbs(CLI::App& app, cli_state& state);

namespace {

struct verb_group {
  add_verbs_fn add;
  std::vector<std::string_view> verbs;  // the names and aliases its function adds
};

const std::vector<verb_group>& verb_groups() {
  static const std::vector<verb_group> groups = [] {
    std::vector<verb_group> g = {
        {add_bus_verbs, {"init", "init-system", "cleanup", "cleanup-system"}},
        {add_send_verbs, {"send", "send-backpressure"}},
        {add_recv_verbs, {"recv", "receive", "peek", "clear"}},
        {add_inspect_verbs,
         {"count", "get-size", "check-capacity", "get-utilization", "get-stats"}},
        {add_doctor_verbs, {"doctor"}},
        {add_top_verbs, {"top"}},
        {add_config_verbs, {"config"}},
        {add_policy_verbs, {"policy", "limits", "quota", "cost"}},
        {add_acquire_verbs, {"acquire", "release", "run", "check-rate"}},
        {add_forwarded_verbs, {}},
    };
    for (const auto& v : actor_verbs) g.back().verbs.emplace_back(v.name);
    return g;
  }();
  return groups;
}

}  // namespace

std::unique_ptr<CLI::App> make_app(cli_state& state, std::string_view first_arg) {
  auto app = make_base_app(state);
  const auto& groups = verb_groups();
  for (const auto& g : groups) {
    if (std::find(g.verbs.begin(), g.verbs.end(), first_arg) == g.verbs.end()) continue;
    g.add(*app, state);
    return app;
  }
  for (const auto& g : groups) g.add(*app, state);
  return app;
}

int run_sluice(int argc, char** argv) {
  auto args = help_as_flag(argc, argv);
  args.push_back(nullptr);  // argv[argc] is NULL for anything that execs with it
  const int n = static_cast<int>(args.size()) - 1;
  cli_state state;
  const auto app = make_app(state, n > 1 ? args[1] : "");
  return run_app(*app, state, n, args.data());
}

std::vector<std::string_view> grouped_verbs() {
  std::vector<std::string_view> all;
  for (const auto& g : verb_groups()) all.insert(all.end(), g.verbs.begin(), g.verbs.end());
  return all;
}

}  // namespace sluice::cli
