// `sluice monitor-overflow [interval]`, `sluice monitor-rate-limit [interval]` (foreground
// monitors in a CAF actor system until SIGINT/SIGTERM) and `sluice apply-rate-limit` (one
// load adjustment, no actor system). The monitors themselves live in actors/.
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "monitors/exposition.hpp"
#include "monitors/load_step.hpp"
#include "monitors/monitor_actors.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/cli/actor_verbs.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/config.hpp"
#include "runtime/count.hpp"
#include "runtime/duration.hpp"
#include "runtime/metrics_http.hpp"
#include "runtime/stop_signals.hpp"

namespace sluice::cli {
namespace {

struct monitor_flags {
  std::string interval;  // positional; empty: RATE_LIMIT_CHECK_INTERVAL
  std::string load_source = "stat";
  std::string for_samples = "1";
  std::string cooldown = "30s";
  double band = 0.05;
  std::string http;  // host:port, empty: no endpoint
};

monitors::load_source parse_source(const std::string& s) {
  if (s == "stat") return monitors::load_source::stat;
  if (s == "psi") return monitors::load_source::psi;
  if (s == "loadavg") return monitors::load_source::loadavg;
  throw cli_error{exit_code::bad_input,
                  "--load-source " + quote(s) + ": expected stat, psi or loadavg"};
}

// Everything both monitors need, from flags > environment > sluice.toml > defaults.
monitors::monitor_settings settings_from(const global_options& globals, const monitor_flags& f) {
  monitors::monitor_settings s;
  s.bus_dir = resolve_bus_dir(globals);
  if (auto made = runtime::ensure_bus_dir(s.bus_dir, sharing_of(globals)); !made) fail(made.err());
  runtime::config config{s.bus_dir};
  if (!f.interval.empty()) config.set_flag(runtime::knob::check_interval, f.interval, "interval");
  s.interval = take(config.check_interval());
  const auto th = take(config.thresholds());
  s.load.high = th.high;
  s.load.medium = th.medium;
  s.load.band = f.band;
  if (auto bad = monitors::validate(s.load)) throw cli_error{exit_code::bad_input, *bad};
  s.metrics_file = take(config.metrics_file());
  s.alert_file = take(config.alert_log_file());
  s.source = parse_source(f.load_source);
  s.alerts.for_samples =
      static_cast<std::uint32_t>(take(runtime::parse_count(f.for_samples, "--for", 1, 1'000'000)));
  auto cooldown = runtime::parse_duration(f.cooldown, "--cooldown");
  if (!cooldown) throw cli_error{exit_code::bad_input, cooldown.err().message};
  s.alerts.cooldown =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(cooldown.value());
  if (auto bad = monitors::validate(s.alerts)) throw cli_error{exit_code::bad_input, *bad};
  return s;
}

using spawn_fn = caf::actor (*)(caf::actor_system&, const monitors::monitor_settings&);

// Runs the given monitors until SIGINT or SIGTERM. The signals are blocked before the actor
// system starts, so its threads inherit the mask and only this thread's sigwait sees them.
int run_foreground(const monitors::monitor_settings& s, const std::string& http,
                   const std::vector<spawn_fn>& spawns) {
  std::unique_ptr<runtime::metrics_http_server> server;
  if (!http.empty()) {
    const auto at = take(runtime::parse_http_endpoint(http, "--http"));
    server = take(runtime::metrics_http_server::start(
        at, [dir = s.bus_dir] { return monitors::render_bus_metrics(dir); }));
  }
  int sig = 0;
  {
    const runtime::blocked_stop_signals blocked;
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    caf::actor_system sys{cfg};
    std::vector<caf::actor> running;
    for (auto spawn : spawns) running.push_back(spawn(sys, s));
    spdlog::info("monitoring {} every {} ms; Ctrl-C stops", s.bus_dir.string(), s.interval.count());
    sigwait(&blocked.set, &sig);
    spdlog::info("{} received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    for (auto& a : running) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }  // the actor system waits for its actors here, then the signals are unblocked
  return exit_code::ok;
}

// One adjustment. /proc/stat needs two readings, so a stat source is read twice, a short
// measuring window apart (the window is the measurement, not a wait for something).
int apply_once(const monitors::monitor_settings& s) {
  auto step = take(monitors::load_step::open(s));
  auto r = step.step(std::chrono::steady_clock::now());
  if (!r.decision && r.source == monitors::load_source::stat) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    r = step.step(std::chrono::steady_clock::now());
  }
  if (!r.decision)
    throw cli_error{exit_code::io_error,
                    "no load source was readable (tried /proc/stat, /proc/pressure/cpu, "
                    "/proc/loadavg); bus.ctl left unchanged"};
  const auto& d = *r.decision;
  const nlohmann::json out{{"load_per_cpu", std::round(d.load * 1000.0) / 1000.0},
                           {"source", monitors::to_string(r.source)},
                           {"level", monitors::to_string(d.level)},
                           {"batch_size", d.setting.batch_size},
                           {"backpressure_wait_ms", d.setting.wait_ms},
                           {"changed", d.changed}};
  std::printf("%s\n", out.dump().c_str());
  return exit_code::ok;
}

void add_common(CLI::App* cmd, monitor_flags& f, bool with_interval) {
  if (with_interval)
    cmd->add_option(
        "interval", f.interval,
        "seconds between checks, fractions >= 0.1 (default RATE_LIMIT_CHECK_INTERVAL, 5)");
}

void add_load_flags(CLI::App* cmd, monitor_flags& f) {
  cmd->add_option(
      "--load-source", f.load_source,
      "stat (busy share from /proc/stat, default), psi (/proc/pressure/cpu some avg10) "
      "or loadavg (1-minute load / CPUs); an unreadable source falls back with a warning");
  cmd->add_option("--band", f.band,
                  "hysteresis: leave a load level only below its threshold minus this (0.05)");
}

void add_http_flag(CLI::App* cmd, monitor_flags& f) {
  cmd->add_option("--http", f.http,
                  "also serve /metrics over HTTP at host:port, e.g. 127.0.0.1:9464");
}

}  // namespace

void add_feature_verbs(CLI::App& app, cli_state& state) {
  auto overflow = std::make_shared<monitor_flags>();
  auto* o = app.add_subcommand("monitor-overflow", actor_verb_description("monitor-overflow"));
  add_common(o, *overflow, true);
  o->add_option("--for", overflow->for_samples,
                "samples a condition must hold before firing or resolving (1)");
  o->add_option("--cooldown", overflow->cooldown,
                "quiet time after a resolve before a warning may fire again (30s)");
  add_http_flag(o, *overflow);
  o->callback([&state, overflow] {
    state.action = [&state, overflow] {
      return run_foreground(settings_from(state.globals, *overflow), overflow->http,
                            {&monitors::spawn_overflow_monitor});
    };
  });

  auto rate = std::make_shared<monitor_flags>();
  auto* r = app.add_subcommand("monitor-rate-limit", actor_verb_description("monitor-rate-limit"));
  add_common(r, *rate, true);
  add_load_flags(r, *rate);
  add_http_flag(r, *rate);
  r->callback([&state, rate] {
    state.action = [&state, rate] {
      return run_foreground(settings_from(state.globals, *rate), rate->http,
                            {&monitors::spawn_load_monitor});
    };
  });

  auto once = std::make_shared<monitor_flags>();
  auto* a = app.add_subcommand("apply-rate-limit", actor_verb_description("apply-rate-limit"));
  add_load_flags(a, *once);
  a->callback([&state, once] {
    state.action = [&state, once] { return apply_once(settings_from(state.globals, *once)); };
  });
}

}  // namespace sluice::cli
