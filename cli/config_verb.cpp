// `sluice config`: every setting in force for this bus and where it came from, like
// `git config --list --show-origin`: flag > the load monitor's live setting (bus.ctl, batch
// size and base wait only, while it is fresh) > environment > sluice.toml > default.
#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/bus_control.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/stdio.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/config.hpp"

namespace sluice::cli {
namespace {

struct config_flags {
  bool json = false;
};

std::int64_t monotonic_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The source of the batch size and base wait senders use right now.
std::string live_origin(runtime::bus_control::origin o) {
  switch (o) {
    case runtime::bus_control::origin::load_monitor:
      return "bus.ctl: the load monitor's live setting";
    case runtime::bus_control::origin::apply_rate_limit:
      return "bus.ctl: apply-rate-limit (kept until replaced)";
    case runtime::bus_control::origin::configured:
      break;
  }
  return {};
}

int run_config(const global_options& globals, const config_flags& flags) {
  const auto dir = resolve_bus_dir(globals);
  runtime::config config(dir);
  nlohmann::ordered_json settings = nlohmann::ordered_json::array();
  for (int i = 0; i < runtime::knob_count; ++i) {
    const auto k = static_cast<runtime::knob>(i);
    const auto& info = runtime::describe(k);
    auto value = take(config.value_text(k));
    settings.push_back({{"key", info.toml_key},
                        {"env", info.env},
                        {"value", value},
                        {"source", config.source_of(k)}});
  }
  // What senders use now: the load monitor may override the configured batch and wait.
  const auto configured = take(runtime::configured_policy(config));
  auto policy = configured;
  auto origin = runtime::bus_control::origin::configured;
  if (auto ctl = runtime::bus_control::open(dir)) {
    const auto now = monotonic_now_ns();
    policy = ctl->policy_at(now, configured);
    origin = ctl->origin_at(now);
  }
  const std::string live = live_origin(origin);
  const std::string batch_source =
      live.empty() ? config.source_of(runtime::knob::batch_size) : live;
  const std::string wait_source =
      live.empty() ? config.source_of(runtime::knob::backpressure_wait) : live;
  nlohmann::ordered_json in_force = {
      {"batch_size", {{"value", policy.batch_size}, {"source", batch_source}}},
      {"backpressure_wait_ms", {{"value", policy.backpressure_wait_ms}, {"source", wait_source}}}};

  std::string text;
  if (flags.json) {
    nlohmann::ordered_json out = {
        {"bus", dir.string()}, {"settings", settings}, {"in_force", in_force}};
    text = out.dump() + "\n";
  } else {
    text = "bus " + dir.string() + "\n";
    for (const auto& s : settings) {
      const std::string key = s["key"];
      const std::string value = s["value"];
      const std::string source = s["source"];
      text += key + std::string(key.size() < 34 ? 34 - key.size() : 1, ' ') + value +
              std::string(value.size() < 14 ? 14 - value.size() : 1, ' ') + source + "\n";
    }
    text += "in force now: batch size " + std::to_string(policy.batch_size) + " (" + batch_source +
            "), backpressure wait " + std::to_string(policy.backpressure_wait_ms) + " ms (" +
            wait_source + ")\n";
  }
  if (!write_fully(text)) throw cli_error{exit_code::io_error, "cannot write to stdout"};
  return exit_code::ok;
}

}  // namespace

void add_config_verbs(CLI::App& app, cli_state& state) {
  auto flags = std::make_shared<config_flags>();
  auto* cmd =
      app.add_subcommand("config",
                         "show every setting in force and where it came from (flag, environment, "
                         "sluice.toml, bus.ctl or default)");
  cmd->add_flag("--json", flags->json, "print one JSON object instead of text");
  cmd->callback([&state, flags] {
    state.action = [&state, flags] { return run_config(state.globals, *flags); };
  });
}

}  // namespace sluice::cli
