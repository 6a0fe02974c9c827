#include "monitors/exposition.hpp"

#include "backpressure/circuit_breaker.hpp"
#include "inbox/inbox.hpp"
#include "runtime/bus_control.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/config.hpp"
#include "runtime/inbox_stats.hpp"
#include "runtime/prometheus.hpp"

namespace sluice::monitors {
namespace {

// Not in runtime::prom because only the load monitor's exposition has it.
constexpr runtime::prom_family backpressure_wait_seconds{
    "sluice_backpressure_wait_seconds", runtime::prom_type::gauge,
    "Base backpressure wait chosen by the load monitor."};

// The family's help text promises 0 closed, 1 half-open, 2 open (ordered by severity).
double breaker_gauge(backpressure::breaker_state s) noexcept {
  switch (s) {
    case backpressure::breaker_state::closed: return 0;
    case backpressure::breaker_state::half_open: return 1;
    case backpressure::breaker_state::open: return 2;
  }
  return 0;
}

void add_inbox(std::vector<runtime::prom_sample>& out, inbox::inbox& box) {
  const auto s = box.snapshot();
  const auto labels = std::vector<std::pair<std::string, std::string>>{{"agent", box.agent()}};
  for (std::size_t i = 0; i < runtime::inbox_stat_count; ++i) {
    const auto& row = runtime::inbox_stat_table[i];
    if (row.prom.name != nullptr) out.push_back({&row.prom, labels, runtime::prom_value(row, s)});
  }
  out.push_back({&runtime::prom::circuit_breaker_state, labels,
                 breaker_gauge(backpressure::inspect(box.breaker()).state)});
}

void add_control(std::vector<runtime::prom_sample>& out, const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / runtime::control_file_name)) return;
  auto ctl = runtime::bus_control::open(dir);
  if (!ctl) return;
  const auto load = ctl->load();
  if (load.updated_ns != 0)
    out.push_back({&runtime::prom::load_per_cpu, {}, load.load_milli / 1000.0});
  // What senders use now: the configured policy once the load monitor's publish expired.
  // An invalid configuration has no policy to show (the verbs that read it refuse to run).
  runtime::config conf{dir};
  auto configured = runtime::configured_policy(conf);
  if (!configured) return;
  const auto policy = ctl->policy_now(*configured);
  out.push_back({&runtime::prom::batch_size, {}, static_cast<double>(policy.batch_size)});
  out.push_back({&backpressure_wait_seconds, {}, policy.backpressure_wait_ms / 1000.0});
}

}  // namespace

std::string render_bus_metrics(const std::filesystem::path& bus_dir) {
  std::vector<runtime::prom_sample> samples;
  for (const auto& agent : runtime::list_agents(bus_dir)) {
    auto box = inbox::inbox::open(bus_dir, agent);
    if (box) add_inbox(samples, *box);
  }
  add_control(samples, bus_dir);
  return runtime::render_prometheus(samples);
}

runtime::status write_bus_metrics(const std::filesystem::path& bus_dir) {
  return runtime::write_file_atomically(bus_dir / prom_file_name, render_bus_metrics(bus_dir));
}

}  // namespace sluice::monitors
