// `sluice launch <manifest.toml> [--keep] [--grace 5s]` (docs/architecture.md section 6). The actor
// system lives in actors/launcher; this file only parses flags and maps errors to exit codes.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "actors/launch/launcher.hpp"
#include "actors/launch/manifest.hpp"
#include "runtime/cli/actor_verbs.hpp"
#include "runtime/cli/forward.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/duration.hpp"

namespace sluice::cli {

namespace {

struct launch_flags {
  std::string manifest;
  bool keep = false;
  std::string grace = "5s";
};

// Shell agents call the same sluice that launched them, wherever it is installed: the one
// next to this sluice-launch.
std::string own_sluice() {
  const auto dir = own_directory();
  return dir.empty() ? std::string() : (dir / "sluice").string();
}

int run_launch(const global_options& globals, const launch_flags& f) {
  auto grace = runtime::parse_duration(f.grace, "--grace");  // flags before files
  if (!grace) throw cli_error{exit_code::bad_input, grace.err().message};
  auto m = actors::load_manifest(f.manifest);
  if (!m) throw cli_error{runtime::exit_code_for(m.err().code), m.err().message};

  actors::launch_options opts;
  opts.bus = {globals.dir, globals.bus};
  opts.keep = f.keep;
  opts.grace = std::chrono::duration_cast<std::chrono::milliseconds>(grace.value());
  opts.sluice_bin = own_sluice();
  auto code = actors::launch(m.value(), opts);
  if (!code) throw cli_error{runtime::exit_code_for(code.err().code), code.err().message};
  return code.value();
}

}  // namespace

void add_feature_verbs(CLI::App& app, cli_state& state) {
  auto flags = std::make_shared<launch_flags>();
  auto* cmd = app.add_subcommand("launch", actor_verb_description("launch"));
  cmd->add_option("manifest", flags->manifest, "the manifest (see examples/swarm.toml)")
      ->required();
  cmd->add_flag("--keep", flags->keep,
                "leave the bus (inboxes, bus.ctl, logs) in place afterwards");
  cmd->add_option("--grace", flags->grace,
                  "time between SIGTERM and SIGKILL when stopping (default 5s)");
  cmd->callback([&state, flags] {
    state.action = [&state, flags] { return run_launch(state.globals, *flags); };
  });
}

}  // namespace sluice::cli
