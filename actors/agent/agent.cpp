#include "actors/agent/agent.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

#include "backpressure/address.hpp"
#include "backpressure/send.hpp"
#include "governance/send_gate.hpp"
#include "inbox/files/std_fds.hpp"
#include "inbox/layout.hpp"
#include "runtime/bus_control.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/config.hpp"
#include "runtime/exit_codes.hpp"
#include "runtime/logging.hpp"
#include "runtime/plural.hpp"
#include "runtime/stop_signals.hpp"

namespace sluice::actors {

namespace {

using pump_atom = caf::atom_constant<caf::atom("pump")>;

using runtime::stop_requested;

// The monotonic clock, except that a stop request (SIGTERM) moves it past every deadline:
// a send waiting on a full destination gives up at its next wake-up (the signal also cuts
// the doorbell wait short) instead of holding the agent beyond launch's grace period.
class stoppable_time final : public backpressure::time_source {
 public:
  std::int64_t now_ns() noexcept override {
    const std::int64_t t = backpressure::monotonic_time().now_ns();
    return stop_requested() ? t + (std::int64_t{1} << 60) : t;
  }
  void sleep_for(std::chrono::nanoseconds d) noexcept override {
    if (!stop_requested()) backpressure::monotonic_time().sleep_for(d);
  }
};

}  // namespace

struct agent::impl {
  std::string name;
  std::filesystem::path dir;
  agent_options opts;
  std::optional<inbox::inbox> own;
  std::optional<inbox::consumer> consumer;
  std::optional<runtime::bus_control> control;  // absent until bus.ctl exists
  std::optional<governance::send_gate> gate;    // the bus policy every send obeys
  std::uint32_t default_batch = 10;
  inbox::create_options new_inbox;  // geometry of the inboxes this agent creates (config)
  std::string config_error;         // an invalid knob: the agent refuses to start
  std::map<std::string, inbox::inbox, std::less<>> destinations;
  stoppable_time clock;
  agent_stats stats;
  bool stop = false;
  int exit_code = 0;

  std::uint32_t batch_size() {
    if (opts.batch_size) return opts.batch_size;
    if (!control) {
      if (auto c = runtime::bus_control::open(dir)) control.emplace(std::move(c.value()));
    }
    if (!control) return default_batch;
    // policy_now, not policy: a setting whose monitor stopped renewing it has expired.
    return std::max<std::uint32_t>(1, control->policy_now({default_batch, 0}).batch_size);
  }

  // Lost messages: how many, and the first one's reason and exit code.
  std::optional<runtime::failure> first_lost;

  // An existing inbox, or a new one with the configured geometry, as `sluice send` makes it
  // (so a reply reaches a shell agent that has not received anything yet, and an agent can
  // send to agent@peer before the bridge to peer has started). A payload a new inbox would
  // refuse creates nothing.
  // address: `to` as the caller wrote it (agent@peer for the outbound inbox `to`).
  std::optional<runtime::failure> open_destination(std::string_view to, std::string_view address,
                                                   std::size_t payload_size, inbox::inbox*& dest) {
    if (auto it = destinations.find(to); it != destinations.end()) {
      dest = &it->second;
      return std::nullopt;
    }
    auto opened = inbox::inbox::open(dir, to);
    if (!opened && opened.err().code == inbox::errc::not_found) {
      const std::uint32_t limit = inbox::layout::max_payload_of(new_inbox.slot_size);
      if (payload_size > limit) {
        return runtime::stored_payload_too_large(payload_size, address, limit);
      }
      if (auto made = runtime::ensure_bus_dir(dir); !made) return destination_error(made.err());
      opened = inbox::inbox::open_or_create(dir, to, new_inbox);
    }
    if (!opened) return destination_error(opened.err());
    dest = &destinations.emplace(std::string(to), std::move(opened.value())).first->second;
    return std::nullopt;
  }

  // One line per lost message (the first few; a flood is counted, not printed).
  static runtime::failure destination_error(const inbox::error& err) {
    return {runtime::exit_code_for(err.code), err.message};
  }

  void lost(std::string_view to, runtime::failure failure) {
    constexpr std::uint64_t logged = 10;
    ++stats.send_failures;
    if (stats.send_failures <= logged)
      spdlog::error("{}: message to '{}' not delivered: {}", name, to, failure.message);
    if (stats.send_failures == logged)
      spdlog::error("{}: further undelivered messages are counted, not logged", name);
    if (!first_lost) {
      failure.message = "the first to '" + std::string(to) + "': " + failure.message;
      first_lost = std::move(failure);
    }
  }

  // The exit code run_agent returns: the handlers' (or a signal's 0), unless that is 0 and a
  // message was lost.
  int final_exit_code(int code) const {
    if (!first_lost) return code;
    const int final_code = code == 0 && opts.lost_message_fails_exit ? first_lost->code : code;
    spdlog::error("{}: {} not delivered ({}); exit code {}", name,
                  runtime::plural(stats.send_failures, "message"), first_lost->message, final_code);
    return final_code;
  }
};

const std::string& agent::name() const noexcept {
  return p_->name;
}
const std::filesystem::path& agent::bus_dir() const noexcept {
  return p_->dir;
}
const agent_stats& agent::stats() const noexcept {
  return p_->stats;
}
bool agent::stopping() const noexcept {
  return p_->stop;
}
std::uint64_t agent::backlog() const noexcept {
  return p_->own ? p_->own->size() : 0;
}

void agent::stop(int exit_code) noexcept {
  p_->stop = true;
  p_->exit_code = exit_code;
}

backpressure::send_outcome agent::send_detailed(std::string_view to, std::string_view type,
                                                std::string_view payload, inbox::priority prio) {
  backpressure::send_outcome out;
  // agent@peer goes into the outbound inbox of the bridge to peer, the agent in an envelope,
  // exactly as `sluice send` does (backpressure/bridge_route.hpp).
  std::string wrapped;
  std::string outbound;
  std::string_view inbox_name = to;
  auto remote = backpressure::parse_address(to);
  if (!remote) {
    p_->lost(to, impl::destination_error(remote.err()));
    return out;
  }
  if (*remote) {
    wrapped = backpressure::wrap_envelope((*remote)->agent, payload);
    payload = wrapped;
    outbound = backpressure::outbound_inbox((*remote)->peer);
    inbox_name = outbound;
  }
  inbox::inbox* dest = nullptr;
  if (auto refused = p_->open_destination(inbox_name, to, payload.size(), dest)) {
    p_->lost(to, std::move(*refused));
    return out;
  }
  auto policy = p_->opts.send;
  if (policy.gate == nullptr) {
    if (!p_->gate) p_->gate.emplace(p_->dir);
    policy.gate = &*p_->gate;
  }
  // Stopping: deliver what fits now, wait for nothing.
  if (p_->opts.handle_signals && stop_requested()) policy.wait = false;
  out = backpressure::send_with_backpressure(
      *dest, {p_->name, type, payload, prio}, policy, backpressure::null_observer(),
      p_->opts.handle_signals ? p_->clock : backpressure::monotonic_time());
  p_->stats.backpressure_waits += out.waits;
  p_->stats.backpressure_time += out.waited;
  if (out.status == backpressure::send_status::sent) {
    ++p_->stats.sent;
  } else if (out.status == backpressure::send_status::full && !p_->opts.send.wait) {
    ++p_->stats.full;  // the caller asked not to wait and decides what to do
  } else {
    p_->lost(to, runtime::describe_send_failure(p_->name, inbox_name, out, payload.size(),
                                                dest->snapshot().max_payload, to));
  }
  return out;
}

backpressure::send_status agent::send(std::string_view to, std::string_view type,
                                      std::string_view payload, inbox::priority prio) {
  return send_detailed(to, type, payload, prio).status;
}

backpressure::send_status agent::reply(const inbox::received_message& to, std::string_view type,
                                       std::string_view payload) {
  return send(to.from, type, payload);
}

namespace {

struct pump_state {
  std::shared_ptr<agent::impl> p;
  std::shared_ptr<agent_handlers> h;
  std::shared_ptr<int> exit_code;
  static inline const char* name = "sluice.agent";
};

void finish(caf::stateful_actor<pump_state>* self, int code) {
  auto& s = self->state;
  code = s.p->final_exit_code(code);
  if (s.exit_code) *s.exit_code = code;
  s.p->consumer.reset();  // releases the inbox lock now, not when the actor is destroyed
  self->quit();
}

// One turn: a batch into the handler and a commit, or a bounded doorbell wait.
void turn(caf::stateful_actor<pump_state>* self) {
  auto& s = self->state;
  agent::impl& p = *s.p;
  agent a(p);
  if (const int sig = runtime::stop_signal(); sig != 0 && p.opts.handle_signals) {
    spdlog::info("{}: stopping on signal {}", p.name, sig);
    p.stop = true;
  }
  if (p.stop) return finish(self, p.exit_code);
  auto batch = p.consumer->pop_batch(p.batch_size());
  if (batch.empty()) {
    (void)p.own->wait_not_empty(p.opts.idle_wait);
  } else {
    try {
      for (const auto& m : batch) {
        if (p.opts.handle_signals && stop_requested()) {
          // Not committed: the whole batch is delivered again to the next run of this agent.
          spdlog::info("{}: stopping on signal mid-batch; the batch stays for the next run",
                       p.name);
          return finish(self, p.exit_code);
        }
        ++p.stats.received;
        if (s.h->on_message) s.h->on_message(a, m);
      }
    } catch (const std::exception& e) {
      // Not committed: the batch is delivered again to the next run of this agent.
      spdlog::error("{}: handler failed: {} (batch left uncommitted)", p.name, e.what());
      return finish(self, 1);
    }
    p.consumer->commit();
    ++p.stats.batches;
  }
  if (s.h->on_idle && !p.stop) s.h->on_idle(a);
  self->send(self, pump_atom::value);
}

caf::behavior pump(caf::stateful_actor<pump_state>* self, std::shared_ptr<agent::impl> p,
                   std::shared_ptr<agent_handlers> h, std::shared_ptr<int> exit_code) {
  self->state.p = std::move(p);
  self->state.h = std::move(h);
  self->state.exit_code = std::move(exit_code);
  auto& impl = *self->state.p;
  if (!impl.config_error.empty()) {
    spdlog::error("{}: {}", impl.name, impl.config_error);
    finish(self, 65);
    return {};
  }
  auto own = inbox::inbox::open_or_create(impl.dir, impl.name, impl.new_inbox);
  std::optional<inbox::result<inbox::consumer>> attached;
  if (own) attached.emplace(own->attach_consumer());
  if (!own || !*attached) {
    spdlog::error("{}: cannot attach to its inbox: {}", impl.name,
                  own ? (*attached).err().message : own.err().message);
    finish(self, 69);
    return {};
  }
  impl.own.emplace(std::move(own.value()));
  impl.consumer.emplace(std::move(attached->value()));
  if (self->state.h->on_start) {
    agent a(impl);
    self->state.h->on_start(a);
  }
  self->send(self, pump_atom::value);
  return {[=](pump_atom) { turn(self); }};
}

}  // namespace

caf::actor spawn_agent(caf::actor_system& sys, agent_handlers handlers, agent_options opts,
                       std::shared_ptr<int> exit_code) {
  auto p = std::make_shared<agent::impl>();
  p->name = opts.name;
  if (p->name.empty()) {
    const char* env = std::getenv("SLUICE_AGENT");
    p->name = env ? env : "";
  }
  p->dir = opts.bus_dir;
  if (p->dir.empty()) {
    if (auto loc = runtime::resolve_bus({})) p->dir = loc->dir;
  }
  runtime::config cfg(p->dir);
  // An invalid knob is an error the agent reports at start, never a silent default.
  if (auto b = cfg.batch_size()) {
    p->default_batch = b.value();
  } else {
    p->config_error = b.err().message;
  }
  if (auto made = cfg.new_inbox_options()) {
    p->new_inbox = *made;
  } else {
    p->config_error = made.err().message;
  }
  if (opts.handle_signals) runtime::stop_on_signals();
  p->opts = std::move(opts);
  if (!exit_code) exit_code = std::make_shared<int>(0);
  return sys.spawn<caf::detached>(pump, std::move(p),
                                  std::make_shared<agent_handlers>(std::move(handlers)),
                                  std::move(exit_code));
}

int run_agent(agent_handlers handlers, agent_options opts) {
  // Before CAF opens its own descriptors: a closed stdout must not become one of them.
  (void)inbox::ensure_std_fds_open();
  (void)runtime::init_logging_from_env();
  runtime::log_timestamps(true);
  if (opts.name.empty() && !std::getenv("SLUICE_AGENT")) {
    spdlog::error("no agent name: set SLUICE_AGENT (sluice launch does) or agent_options.name");
    return 64;
  }
  auto code = std::make_shared<int>(0);
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 1);
  caf::actor_system sys{cfg};
  auto pump_actor = spawn_agent(sys, std::move(handlers), std::move(opts), code);
  caf::scoped_actor self{sys};
  self->monitor(pump_actor);
  self->receive([](const caf::down_msg&) {});
  return *code;
}

}  // namespace sluice::actors
