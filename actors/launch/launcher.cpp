#include "actors/launch/launcher.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "actors/launch/process.hpp"
#include "actors/launch/supervisor.hpp"
#include "inbox/inbox.hpp"
#include "monitors/exposition.hpp"
#include "monitors/monitor_actors.hpp"
#include "runtime/bus_control.hpp"
#include "runtime/config.hpp"
#include "runtime/metrics_http.hpp"
#include "runtime/plural.hpp"
#include "runtime/stop_signals.hpp"

namespace sluice::actors {

namespace {

using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

// Knows every supervisor; decides when the launch is over.
struct manager_state {
  std::map<std::string, caf::actor> running;  // supervisors whose agent is not down for good
  std::set<std::string> jobs_left;
  bool had_jobs = false;
  bool stopping = false;
  bool unclean = false;
  caf::actor notify;
  static inline const char* name = "sluice.launch";
};

using manager_actor = caf::stateful_actor<manager_state>;

void begin_stop(manager_actor* self, const char* why) {
  auto& s = self->state;
  if (s.stopping) return;
  s.stopping = true;
  spdlog::info("launch: {}; stopping {}", why, runtime::plural(s.running.size(), "agent"));
  for (auto& [name, sup] : s.running) self->send(sup, stop_atom::value);
}

caf::behavior manager(manager_actor* self, std::vector<actors::agent_spec> specs,
                      std::shared_ptr<const launch_context> ctx, caf::actor notify) {
  auto& s = self->state;
  s.notify = std::move(notify);
  for (auto& spec : specs) {
    if (spec.role == actors::agent_role::job) s.jobs_left.insert(spec.name);
    const std::string name = spec.name;
    auto sup =
        spawn_supervisor(self->system(), std::move(spec), ctx, caf::actor_cast<caf::actor>(self));
    s.running.emplace(name, sup);
    self->send(sup, start_atom::value);
  }
  s.had_jobs = !s.jobs_left.empty();
  return {
      [=](finished_atom, const std::string& name, bool clean, const std::string&) {
        auto& st = self->state;
        st.running.erase(name);
        st.unclean = st.unclean || !clean;
        if (st.jobs_left.erase(name) && st.jobs_left.empty())
          begin_stop(self, "every job has finished");
        if (st.running.empty()) {
          self->send(st.notify, done_atom::value, st.unclean ? 1 : 0);
          self->quit();
        }
      },
      [=](shutdown_atom, int sig) {
        auto& st = self->state;
        if (!st.stopping) {
          begin_stop(self, sig == SIGINT ? "SIGINT" : "SIGTERM");
          return;
        }
        if (sig != SIGINT) return;
        spdlog::warn("launch: second SIGINT; killing {} now",
                     runtime::plural(st.running.size(), "agent"));
        for (auto& [n, sup] : st.running) self->send(sup, kill_atom::value);
      },
  };
}

// flag > environment > the manifest's `bus` > "default".
runtime::result<runtime::bus_location> locate_bus(const actors::manifest& m,
                                                  runtime::bus_flags flags) {
  const bool from_env = std::getenv("SLUICE_DIR") || std::getenv("SLUICE_BUS");
  if (flags.dir.empty() && flags.bus.empty() && !from_env && m.bus) flags.bus = *m.bus;
  return runtime::resolve_bus(flags);
}

// Everything on disk, before any process runs.
runtime::status prepare_bus(const actors::manifest& m, const std::filesystem::path& dir) {
  if (auto ok = runtime::ensure_bus_dir(dir); !ok) return ok.err();
  runtime::config cfg(dir);
  auto batch = cfg.batch_size();
  if (!batch) return batch.err();
  auto wait = cfg.backpressure_wait();
  if (!wait) return wait.err();
  auto ctl = runtime::bus_control::open_or_create(
      dir, {batch.value(), static_cast<std::uint32_t>(wait.value().count())});
  if (!ctl) return ctl.err();
  for (const auto& a : m.agents) {
    auto box = inbox::inbox::open_or_create(dir, a.name, a.inbox);
    if (!box) return runtime::error{box.err().code, "agent '" + a.name + "': " + box.err().message};
  }
  return runtime::done{};
}

// The [bridge] section as one more supervised process: `sluice bridge` for this bus (the
// supervisor gives it SLUICE_DIR), restarted per its policy like an agent. A separate
// process rather than bridge actors in this actor system, so a bridge that fails (a port
// taken, a refused peer) is restarted with backoff like any agent, and run_bridge's own
// signal handling and exit codes stay as they are for `sluice bridge`.
runtime::result<actors::agent_spec> bridge_process(const actors::bridge_spec& b,
                                                   const runtime::bus_location& loc,
                                                   const std::filesystem::path& sluice_bin) {
  if (sluice_bin.empty())
    return runtime::error{runtime::errc::not_found,
                          "[bridge]: cannot find the sluice executable to run `sluice bridge`"};
  const std::string name = b.name.empty() ? loc.bus : b.name;
  if (name.empty())
    return runtime::error{runtime::errc::invalid_argument,
                          "[bridge]: the bus was given as a directory, so the bridge needs a "
                          "name: add name = \"...\" to the [bridge] section"};
  actors::agent_spec a;
  a.name = actors::bridge_process_name;
  a.executable = sluice_bin;
  a.command = {sluice_bin.string(), "bridge", "--name", name};
  if (!b.listen.empty()) a.command.insert(a.command.end(), {"--listen", b.listen});
  if (!b.connect.empty()) a.command.insert(a.command.end(), {"--connect", b.connect});
  for (const auto& peer : b.peers) a.command.insert(a.command.end(), {"--connect", peer});
  if (!b.secret_file.empty())
    a.command.insert(a.command.end(), {"--secret-file", b.secret_file.string()});
  if (!b.tls_cert.empty())
    a.command.insert(a.command.end(), {"--tls-cert", b.tls_cert.string(), "--tls-key",
                                       b.tls_key.string(), "--tls-ca", b.tls_ca.string()});
  a.role = actors::agent_role::service;
  a.restart = b.restart;
  a.max_restarts = b.max_restarts;
  a.restart_backoff = b.restart_backoff;
  a.line = b.line;
  return a;
}

monitors::monitor_settings monitor_config(const std::filesystem::path& dir,
                                          std::chrono::milliseconds every) {
  monitors::monitor_settings s;
  s.bus_dir = dir;
  s.interval = every;
  return s;
}

}  // namespace

runtime::result<int> launch(const actors::manifest& m, const launch_options& opts) {
  // Blocked before any thread starts (threads inherit the mask) and read from the watcher's
  // signalfd instead, so a signal is an ordinary message to the manager.
  const runtime::blocked_stop_signals blocked;
  // A closed stdout (launch | head) must not kill launch and orphan its agents.
  ::signal(SIGPIPE, SIG_IGN);
  auto loc = locate_bus(m, opts.bus);
  if (!loc) return loc.err();
  const auto dir = loc->dir;
  std::vector<actors::agent_spec> processes = m.agents;
  if (m.bridge) {
    auto bridge = bridge_process(*m.bridge, loc.value(), opts.sluice_bin);
    if (!bridge) return bridge.err();
    processes.push_back(std::move(bridge.value()));
  }
  if (auto ok = prepare_bus(m, dir); !ok) {
    if (!opts.keep) (void)runtime::remove_bus(dir);
    return ok.err();
  }
  std::unique_ptr<runtime::metrics_http_server> http;
  if (m.monitors.prometheus_port != 0) {
    auto server =
        runtime::metrics_http_server::start({"127.0.0.1", m.monitors.prometheus_port},
                                            [dir] { return monitors::render_bus_metrics(dir); });
    if (!server) {
      if (!opts.keep) (void)runtime::remove_bus(dir);
      return server.err();
    }
    http = std::move(server.value());
    spdlog::info("launch: Prometheus metrics at http://127.0.0.1:{}/metrics", http->port());
  }
  spdlog::info("launch: bus {} with {} from {}", dir.string(),
               runtime::plural(m.agents.size(), "agent"), m.file.string());

  int code = 0;
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    caf::actor_system sys{cfg};
    actors::process_watcher watcher;

    std::vector<std::string> names;
    for (const auto& a : processes) names.push_back(a.name);
    auto ctx = std::make_shared<launch_context>();
    ctx->bus_dir = dir;
    ctx->bus = loc->bus;
    ctx->sluice_bin = opts.sluice_bin;
    ctx->cwd = m.directory;
    ctx->grace = opts.grace;
    ctx->watcher = &watcher;
    ctx->output = std::make_shared<const output_prefixer>(output_prefixer::for_terminal(names));

    std::vector<caf::actor> monitors;
    if (m.monitors.overflow)
      monitors.push_back(
          spawn_overflow_monitor(sys, monitor_config(dir, m.monitors.overflow_interval)));
    if (m.monitors.load)
      monitors.push_back(spawn_load_monitor(sys, monitor_config(dir, m.monitors.load_interval)));

    caf::scoped_actor self{sys};
    auto mgr = sys.spawn(manager, std::move(processes), std::shared_ptr<const launch_context>(ctx),
                         caf::actor_cast<caf::actor>(self));
    watcher.watch_signals({SIGINT, SIGTERM},
                          [mgr](int sig) { caf::anon_send(mgr, shutdown_atom::value, sig); });
    self->receive([&](done_atom, int result) { code = result; });
    for (auto& mon : monitors) caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
  }
  http.reset();

  if (!opts.keep) {
    if (auto removed = runtime::remove_bus(dir); !removed)
      spdlog::warn("launch: could not remove the bus: {}", removed.err().message);
  } else {
    spdlog::info("launch: --keep: the bus stays at {}", dir.string());
  }
  spdlog::info("launch: {}",
               code == 0 ? "every agent ended cleanly" : "some agents did not end cleanly");
  return code;
}

}  // namespace sluice::actors
