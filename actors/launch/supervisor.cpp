#include "actors/launch/supervisor.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <optional>

#include "actors/launch/restart_policy.hpp"

namespace sluice::actors {

namespace {

struct supervisor_state {
  actors::agent_spec spec;
  std::shared_ptr<const launch_context> ctx;
  caf::actor manager;
  std::optional<restart_policy> policy;
  std::optional<actors::process_watcher::child_id> running;
  std::uint64_t generation = 0;  // which incarnation an exit or kill message is about
  bool stopping = false;
  bool restart_pending = false;
  bool killed = false;  // needed SIGKILL after the grace period
  actors::exit_status last;
  static inline const char* name = "sluice.supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

bool ended_cleanly(const supervisor_state& s) {
  if (s.last.success()) return true;
  if (!s.stopping || s.killed) return false;
  return (!s.last.exited && s.last.signal == SIGTERM) ||
         (s.last.exited && s.last.code == 128 + SIGTERM);
}

void report(supervisor_actor* self, bool clean, const std::string& description) {
  self->send(self->state.manager, finished_atom::value, self->state.spec.name, clean, description);
  self->quit();
}

void start(supervisor_actor* self) {
  auto& s = self->state;
  s.restart_pending = false;
  if (s.stopping) return report(self, s.last.success(), actors::describe(s.last));
  actors::spawn_options opts;
  opts.executable = s.spec.executable;
  opts.argv = s.spec.command;
  opts.cwd = s.ctx->cwd;
  opts.env = s.spec.env;
  opts.env.emplace_back("SLUICE_DIR", s.ctx->bus_dir.string());
  if (!s.ctx->bus.empty()) opts.env.emplace_back("SLUICE_BUS", s.ctx->bus);
  opts.env.emplace_back("SLUICE_AGENT", s.spec.name);
  opts.env.emplace_back("SLUICE_RESTARTS", std::to_string(s.policy->restarts()));
  if (!s.ctx->sluice_bin.empty()) opts.env.emplace_back("SLUICE_BIN", s.ctx->sluice_bin.string());
  auto child = actors::child_process::spawn(opts);
  if (!child) {
    spdlog::error("{}: {}", s.spec.name, child.err().message);
    return report(self, false, child.err().message);
  }
  const pid_t pid = child->pid();
  const auto generation = ++s.generation;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto output = s.ctx->output;
  const std::string name = s.spec.name;
  actors::process_watcher::callbacks cb;
  cb.on_line = [output, name](actors::output_stream stream, std::string_view line) {
    output->write(name, stream, line);
  };
  cb.on_exit = [me, generation](const actors::exit_status& st) {
    caf::anon_send(me, exited_atom::value, generation, st.exited, st.code, st.signal);
  };
  s.running = s.ctx->watcher->watch(std::move(child.value()), std::move(cb));
  spdlog::info("{}: started (pid {})", s.spec.name, pid);
}

void on_exited(supervisor_actor* self, std::uint64_t generation, bool exited, int code, int sig) {
  auto& s = self->state;
  if (generation != s.generation) return;
  s.running.reset();
  s.last = actors::exit_status{exited, code, sig};
  const auto what = actors::describe(s.last);
  const auto decision = s.policy->on_exit(s.last.success(), s.stopping);
  if (decision.restart) {
    spdlog::warn("{}: {}; restarting in {} ms ({})", s.spec.name, what, decision.delay.count(),
                 decision.reason);
    s.restart_pending = true;
    self->delayed_send(self, decision.delay, start_atom::value);
    return;
  }
  const bool clean = ended_cleanly(s);
  if (clean)
    spdlog::info("{}: {}", s.spec.name, what);
  else
    spdlog::warn("{}: {} (not restarted: {})", s.spec.name, what, decision.reason);
  report(self, clean, what);
}

void on_stop(supervisor_actor* self) {
  auto& s = self->state;
  if (s.stopping) return;
  s.stopping = true;
  if (s.running) {
    s.ctx->watcher->signal(*s.running, SIGTERM);
    self->delayed_send(self, s.ctx->grace, kill_atom::value, s.generation);
    return;
  }
  if (s.restart_pending)
    report(self, false, actors::describe(s.last) + ", stopped before its restart");
}

caf::behavior supervisor(supervisor_actor* self, actors::agent_spec spec,
                         std::shared_ptr<const launch_context> ctx, caf::actor manager) {
  self->state.policy.emplace(spec);
  self->state.spec = std::move(spec);
  self->state.ctx = std::move(ctx);
  self->state.manager = std::move(manager);
  return {
      [=](start_atom) { start(self); },
      [=](exited_atom, std::uint64_t generation, bool exited, int code, int sig) {
        on_exited(self, generation, exited, code, sig);
      },
      [=](stop_atom) { on_stop(self); },
      [=](kill_atom, std::uint64_t generation) {
        auto& s = self->state;
        if (!s.running || generation != s.generation) return;
        spdlog::warn("{}: still running {} ms after SIGTERM; sending SIGKILL", s.spec.name,
                     s.ctx->grace.count());
        s.killed = true;
        s.ctx->watcher->signal(*s.running, SIGKILL);
      },
      // A second Ctrl-C: no more grace.
      [=](kill_atom) {
        auto& s = self->state;
        s.stopping = true;
        if (!s.running) return;
        s.killed = true;
        s.ctx->watcher->signal(*s.running, SIGKILL);
      },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, actors::agent_spec spec,
                            std::shared_ptr<const launch_context> ctx, caf::actor manager) {
  return sys.spawn(supervisor, std::move(spec), std::move(ctx), std::move(manager));
}

}  // namespace sluice::actors
