// The monitor actors: a timer around overflow_step / load_step. All logic lives in those
// (and below them in monitors/); a behavior here only reads the clock and schedules itself.
#include "monitors/monitor_actors.hpp"

#include <spdlog/spdlog.h>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <exception>
#include <optional>

#include "monitors/exposition.hpp"
#include "monitors/load_step.hpp"
#include "monitors/overflow_step.hpp"

namespace sluice::monitors {
namespace {

using monitor_tick_atom = caf::atom_constant<caf::atom("montick")>;
using clock = std::chrono::steady_clock;

// A load setting lives three intervals: a monitor that died (or hangs) stops renewing it, and
// senders fall back to their configured defaults instead of obeying a stale high-load setting.
constexpr int policy_lifetime_ticks = 3;

// Shared by both monitors: the prom file is the whole bus (see monitor_exposition.hpp).
void write_prom(const monitor_settings& s, bool& warned) {
  if (!s.write_prom) return;
  auto st = write_bus_metrics(s.bus_dir);
  if (!st && !warned) {
    warned = true;
    spdlog::warn("cannot write {}: {}", (s.bus_dir / prom_file_name).string(), st.err().message);
  }
}

// A tick never kills its actor: anything thrown is logged and the next tick runs as planned.
template <class F>
void guarded(const char* who, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("{} tick failed: {}", who, e.what());
  }
}

struct overflow_actor_state {
  std::optional<overflow_step> step;
  bool prom_warned = false;
  static const char* name;
};
const char* overflow_actor_state::name = "sluice.overflow_monitor";

caf::behavior overflow_actor(caf::stateful_actor<overflow_actor_state>* self, monitor_settings s) {
  self->state.step.emplace(s);
  self->send(self, monitor_tick_atom::value);
  return {
      [=](monitor_tick_atom) {
        guarded("overflow monitor", [&] {
          self->state.step->step(clock::now());
          write_prom(s, self->state.prom_warned);
        });
        self->delayed_send(self, s.interval, monitor_tick_atom::value);
      },
  };
}

struct load_actor_state {
  std::optional<load_step> step;
  bool open_warned = false;
  bool prom_warned = false;
  static const char* name;
};
const char* load_actor_state::name = "sluice.load_monitor";

caf::behavior load_actor(caf::stateful_actor<load_actor_state>* self, monitor_settings s) {
  self->send(self, monitor_tick_atom::value);
  return {
      [=](monitor_tick_atom) {
        guarded("load monitor", [&] {
          auto& st = self->state;
          if (!st.step) {
            auto opened = load_step::open(s);
            if (opened) {
              st.step.emplace(std::move(opened.value()));
            } else if (!st.open_warned) {
              st.open_warned = true;
              spdlog::warn("load monitor cannot open bus.ctl yet: {}", opened.err().message);
            }
          }
          if (st.step) st.step->step(clock::now(), policy_lifetime_ticks * s.interval);
          write_prom(s, st.prom_warned);
        });
        self->delayed_send(self, s.interval, monitor_tick_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_overflow_monitor(caf::actor_system& sys, const monitor_settings& s) {
  return sys.spawn(overflow_actor, s);
}

caf::actor spawn_load_monitor(caf::actor_system& sys, const monitor_settings& s) {
  return sys.spawn(load_actor, s);
}

}  // namespace sluice::monitors
