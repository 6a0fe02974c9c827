#include "actors/loadtest/run.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "actors/loadtest/fleet.hpp"
#include "actors/loadtest/message.hpp"
#include "actors/loadtest/sink.hpp"
#include "backpressure/circuit_breaker.hpp"

namespace sluice::actors {
namespace {

struct sink_progress {
  std::uint64_t received = 0;
  std::uint64_t p99_ns = 0;
};

// What a sink actor owns; shared with the spawn call because inbox and consumer are move-only.
struct sink_resources {
  explicit sink_resources(inbox::inbox i) : in(std::move(i)) {}
  inbox::inbox in;
  std::atomic<std::int64_t> start_ns{0};  // when the senders were released
  std::optional<loadtest_sink> sink;      // set once the consumer is attached
};

}  // namespace
}  // namespace sluice::actors

// Local-only messages (never serialized, no remote actors in a load test).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::sink_progress)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<sluice::actors::sink_outcome>)

namespace sluice::actors {
namespace {

using drain_atom = caf::atom_constant<caf::atom("ltdrain")>;
using progress_atom = caf::atom_constant<caf::atom("ltprogress")>;
using finish_atom = caf::atom_constant<caf::atom("ltfinish")>;

constexpr std::size_t sink_batch = 256;
// How long one drain step may block on an empty inbox; bounds how late a progress request
// or the finish message is answered.
constexpr std::chrono::milliseconds drain_wait{10};

struct sink_state {
  std::shared_ptr<sink_resources> res;
  bool finishing = false;
  caf::response_promise done;
  static const char* name;
};
const char* sink_state::name = "loadtest_sink";

// Detached (its own thread): the drain step blocks on the inbox doorbell for up to drain_wait.
caf::behavior sink_actor(caf::stateful_actor<sink_state>* self,
                         std::shared_ptr<sink_resources> res) {
  self->state.res = std::move(res);
  self->send(self, drain_atom::value);
  return {
      [=](drain_atom) {
        auto& st = self->state;
        const std::size_t n = st.res->sink->pump(sink_batch, drain_wait);
        if (st.finishing && n == 0 && st.res->sink->drained()) {
          st.done.deliver(std::make_shared<sink_outcome>(st.res->sink->take_outcome()));
          self->quit();
          return;
        }
        self->send(self, drain_atom::value);
      },
      [=](progress_atom) {
        const auto& out = self->state.res->sink->outcome();
        return sink_progress{out.received, out.latency_ns.percentile(99)};
      },
      // Answered once the inbox is empty: the senders have finished, so empty means done.
      [=](finish_atom) {
        self->state.finishing = true;
        self->state.done = self->make_response_promise();
      },
  };
}

std::vector<std::string> sink_names(const loadtest_config& cfg) {
  std::vector<std::string> names;
  for (std::uint32_t i = 0; i < cfg.sinks; ++i)
    names.push_back(cfg.sink_prefix + std::to_string(i));
  return names;
}

// A fresh inbox per sink: a leftover from an earlier run could hold stale messages or an
// open breaker. Refuses when another process consumes it (another load test on this bus).
runtime::result<std::shared_ptr<sink_resources>> make_sink(const loadtest_config& cfg,
                                                           const std::string& name) {
  {
    auto old = inbox::inbox::open(cfg.bus_dir, name);
    if (old) {
      auto c = old->attach_consumer();
      if (!c) {
        return runtime::error{c.err().code,
                              "cannot use sink " + name + ": " + c.err().message +
                                  " (is another loadtest running on this bus? use --bus)"};
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove(cfg.bus_dir / (name + ".inbox"), ec);
  auto in = inbox::inbox::open_or_create(cfg.bus_dir, name, cfg.inbox_options);
  if (!in) return in.err();
  return std::make_shared<sink_resources>(std::move(in).value());
}

std::uint64_t breaker_trips(inbox::inbox& in) {
  return backpressure::inspect(in.breaker()).trips;
}

}  // namespace

std::uint64_t share_of(std::uint64_t total, std::uint32_t n, std::uint32_t i) noexcept {
  return total / n + (i < total % n ? 1 : 0);
}

runtime::result<loadtest_run> run_loadtest(const loadtest_config& cfg,
                                           const progress_fn& on_progress,
                                           const std::atomic<int>& interrupted) {
  const auto names = sink_names(cfg);
  // The coordinator's own handles, for snapshots (utilization, live counters, breakers).
  std::vector<inbox::inbox> watch;
  std::vector<std::shared_ptr<sink_resources>> sinks;
  for (const auto& name : names) {
    auto s = make_sink(cfg, name);
    if (!s) return s.err();
    sinks.push_back(std::move(s).value());
  }
  for (const auto& name : names) {
    auto w = inbox::inbox::open(cfg.bus_dir, name);
    if (!w) return w.err();
    watch.push_back(std::move(w).value());
  }
  auto remove_sinks = [&] {
    if (cfg.keep) return;
    std::error_code ec;
    for (const auto& name : names) std::filesystem::remove(cfg.bus_dir / (name + ".inbox"), ec);
  };

  std::vector<sender_config> configs;
  for (std::uint32_t i = 0; i < cfg.senders; ++i) {
    sender_config s;
    s.id = i;
    s.bus_dir = cfg.bus_dir.string();
    s.sinks = names;
    s.messages = cfg.messages == 0 ? 0 : share_of(cfg.messages, cfg.senders, i);
    s.duration = cfg.duration;
    s.rate = cfg.rate;
    s.payload_min = cfg.payload_min;
    s.payload_max = cfg.payload_max;
    s.mix = cfg.mix;
    s.seed = 0x5EED0000ULL + i;
    configs.push_back(std::move(s));
  }
  // A sender with nothing to send would only add noise.
  if (cfg.messages != 0) {
    configs.erase(std::remove_if(configs.begin(), configs.end(),
                                 [](const sender_config& s) { return s.messages == 0; }),
                  configs.end());
  }

  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", 2);
  sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{sys_cfg};
  std::vector<caf::actor> sink_actors;
  for (auto& res : sinks) {
    auto consumer = res->in.attach_consumer();
    if (!consumer) {
      for (auto& a : sink_actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      remove_sinks();
      return consumer.err();
    }
    // Filled in here, where the inbox already sits at its final address in the resources.
    res->sink.emplace(res->in, std::move(consumer).value(), cfg.consumer_delay, res->start_ns);
    sink_actors.push_back(sys.spawn<caf::detached>(sink_actor, res));
  }

  std::unique_ptr<sender_fleet> fleet;
  if (cfg.sender_exe.empty()) {
    fleet = spawn_sender_threads(configs);
  } else {
    auto spawned = spawn_sender_processes(cfg.sender_exe, configs);
    if (!spawned) {
      for (auto& a : sink_actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      remove_sinks();
      return spawned.err();
    }
    fleet = std::move(spawned).value();
  }

  loadtest_run result;
  for (const auto& name : names) result.sinks.push_back({name, {}, timeline<level_cell>{}});
  caf::scoped_actor self{sys};
  const std::int64_t start_ns = monotonic_ns();
  // release: the sinks read it (acquire) when the first messages arrive.
  for (auto& res : sinks) res->start_ns.store(start_ns, std::memory_order_release);
  fleet->start();

  // Every sample_interval: each inbox's fill and the senders' backpressure waits, straight from
  // the inboxes (cheap, no message to the sinks). Every progress_interval: the progress line,
  // for which the sinks are asked what they received.
  std::uint64_t last_waits = 0;
  std::int64_t next_progress_ns =
      start_ns + std::chrono::nanoseconds(cfg.progress_interval).count();
  std::vector<std::uint64_t> last_received(sinks.size(), 0);
  std::int64_t last_progress_ns = start_ns;
  loadtest_progress progress;
  auto sample = [&](std::int64_t now) {
    std::uint64_t waits = 0;
    progress.sent = 0;
    progress.backpressure_waits = 0;
    for (std::size_t i = 0; i < sinks.size(); ++i) {
      const auto snap = watch[i].snapshot();
      const std::uint64_t critical = snap.size_by_lane[inbox::critical_lane];
      const std::uint64_t regular = snap.size - std::min(snap.size, critical);
      result.sinks[i]
          .utilization.at(now - start_ns)
          .add(snap.capacity == 0 ? 0.0
                                  : std::min(1.0, static_cast<double>(regular) /
                                                      static_cast<double>(snap.capacity)));
      waits += snap.backpressure_waits;
      progress.sent += snap.enqueued;
    }
    result.backpressure_waits.at(now - start_ns)
        .add(static_cast<double>(waits - std::min(waits, last_waits)));
    last_waits = waits;
    progress.backpressure_waits = waits;
  };
  auto report_progress = [&](std::int64_t now, std::uint32_t running) {
    const double dt = static_cast<double>(now - last_progress_ns) / 1e9;
    progress.elapsed_s = static_cast<double>(now - start_ns) / 1e9;
    progress.received = 0;
    progress.msgs_per_s = 0;
    progress.p99_ns = 0;
    progress.breaker_trips = 0;
    for (std::size_t i = 0; i < sinks.size(); ++i) {
      self->request(sink_actors[i], std::chrono::seconds(30), progress_atom::value)
          .receive(
              [&](const sink_progress& p) {
                progress.received += p.received;
                progress.msgs_per_s +=
                    dt > 0 ? static_cast<double>(p.received - last_received[i]) / dt : 0;
                progress.p99_ns = std::max(progress.p99_ns, p.p99_ns);
                last_received[i] = p.received;
              },
              [&](caf::error&) {});
      progress.breaker_trips += breaker_trips(watch[i]);
    }
    progress.senders_running = running;
    last_progress_ns = now;
    if (on_progress) on_progress(progress);
  };

  bool stopping = false;
  bool senders_done = false;
  for (;;) {
    // Sampling period, not synchronisation: the loop ends on conditions checked below.
    std::this_thread::sleep_for(cfg.sample_interval);
    // Relaxed: a flag set by a signal handler and polled once per sample.
    if (!stopping && interrupted.load(std::memory_order_relaxed)) {
      fleet->stop();
      stopping = true;
    }
    const std::int64_t now = monotonic_ns();
    sample(now);
    if (!senders_done && now >= next_progress_ns) {
      const std::uint32_t running = fleet->running();
      senders_done = running == 0;
      report_progress(now, running);
      next_progress_ns = now + std::chrono::nanoseconds(cfg.progress_interval).count();
    }
    if (!senders_done) continue;
    // Every sender is gone, so what is in the inboxes now is all there will be: drain it.
    std::uint64_t pending = 0;
    for (auto& w : watch) pending += w.size();
    if (pending == 0) break;
  }
  report_progress(monotonic_ns(), 0);

  auto reports = fleet->reports();
  std::vector<std::shared_ptr<sink_outcome>> outcomes(sinks.size());
  for (std::size_t i = 0; i < sinks.size(); ++i) {
    self->request(sink_actors[i], caf::infinite, finish_atom::value)
        .receive([&](const std::shared_ptr<sink_outcome>& o) { outcomes[i] = o; },
                 [&](caf::error&) {});
  }
  fleet.reset();
  if (!reports) {
    remove_sinks();
    return reports.err();
  }

  auto& totals = result.totals;
  std::int64_t last_receive_ns = start_ns;
  for (const auto& r : reports.value()) {
    totals.sent += r.sent;
    totals.backpressure_waits += r.backpressure_waits;
    totals.send_failures += r.send_failures;
    result.senders.push_back({r.id, r.sent, r.backpressure_waits, r.send_failures,
                              r.send_call_p50_ns, r.send_call_p99_ns, r.send_call_max_ns,
                              r.max_behind_schedule_ns, r.active_s});
  }
  for (std::size_t i = 0; i < sinks.size(); ++i) {
    auto& o = outcomes[i];
    if (!o) {
      remove_sinks();
      return runtime::error{runtime::errc::io_error,
                            "loadtest: sink " + names[i] + " did not report"};
    }
    for (const auto& r : reports.value()) {
      for (const auto& s : r.streams) {
        if (s.sink == i)
          o->checker.expect(actors::sequence_checker::stream_of(r.id, s.lane), s.sent);
      }
    }
    const auto summary = o->checker.summary();
    totals.received += o->received;
    totals.lost += summary.lost;
    totals.duplicated += summary.duplicated;
    totals.reordered += summary.reordered;
    totals.breaker_trips += breaker_trips(watch[i]);
    result.latency_ns.merge(o->latency_ns);
    result.service_ns.merge(o->service_ns);
    for (std::size_t lane = 0; lane < inbox::lane_count; ++lane)
      result.latency_by_lane[lane].merge(o->latency_by_lane[lane]);
    result.latency_over_time.merge(o->over_time.finish());
    last_receive_ns = std::max(last_receive_ns, o->last_receive_ns);
  }
  // Every series on the widest interval any of them needed, so they line up in the report.
  std::int64_t width = result.latency_over_time.width_ns();
  width = std::max(width, result.backpressure_waits.width_ns());
  for (const auto& s : result.sinks) width = std::max(width, s.utilization.width_ns());
  result.latency_over_time.coarsen_to(width);
  result.backpressure_waits.coarsen_to(width);
  for (std::size_t i = 0; i < sinks.size(); ++i) {
    auto& series = result.sinks[i];
    series.utilization.coarsen_to(width);
    timeline<interval_latency> own = outcomes[i]->over_time.finish();
    own.coarsen_to(width);
    for (const auto& cell : own.cells()) series.received.push_back(cell.count());
  }
  totals.duration_s = static_cast<double>(last_receive_ns - start_ns) / 1e9;
  totals.throughput_msgs_per_s =
      totals.duration_s > 0 ? static_cast<double>(totals.received) / totals.duration_s : 0;
  watch.clear();
  sinks.clear();
  remove_sinks();
  return result;
}

}  // namespace sluice::actors
