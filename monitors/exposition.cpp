#include "monitors/exposition.hpp"

#include <chrono>

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

using labels = std::vector<std::pair<std::string, std::string>>;

void add_inbox(std::vector<runtime::prom_sample>& out, const std::string& bus, inbox::inbox& box) {
  const auto s = box.snapshot();
  const labels inbox_labels{{"bus", bus}, {"agent", box.agent()}};
  for (std::size_t i = 0; i < runtime::inbox_stat_count; ++i) {
    const auto& row = runtime::inbox_stat_table[i];
    if (row.prom.name != nullptr)
      out.push_back({&row.prom, inbox_labels, runtime::prom_value(row, s)});
  }
  // One series per state, the one in force 1 (an enum as Prometheus users expect it).
  const auto state = backpressure::inspect(box.breaker()).state;
  for (const auto each : {backpressure::breaker_state::closed,
                          backpressure::breaker_state::half_open,
                          backpressure::breaker_state::open}) {
    auto l = inbox_labels;
    l.emplace_back("state", backpressure::to_string(each));
    out.push_back({&runtime::prom::circuit_breaker_state, l, each == state ? 1.0 : 0.0});
  }
}

void add_control(std::vector<runtime::prom_sample>& out, const std::string& bus,
                 const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / runtime::control_file_name)) return;
  auto ctl = runtime::bus_control::open(dir);
  if (!ctl) return;
  const labels bus_labels{{"bus", bus}};
  const auto load = ctl->load();
  if (load.updated_ns != 0)
    out.push_back({&runtime::prom::load_per_cpu, bus_labels, load.load_milli / 1000.0});
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  if (const auto beat = ctl->heartbeat(); beat.beat_ns != 0 && now >= beat.beat_ns)
    out.push_back({&runtime::prom::monitor_heartbeat_age, bus_labels, (now - beat.beat_ns) / 1e9});
  // What senders use now: the configured policy once the load monitor's publish expired.
  // An invalid configuration has no policy to show (the verbs that read it refuse to run).
  runtime::config conf{dir};
  auto configured = runtime::configured_policy(conf);
  if (!configured) return;
  const auto policy = ctl->policy_now(*configured);
  out.push_back({&runtime::prom::batch_size, bus_labels, static_cast<double>(policy.batch_size)});
  out.push_back({&backpressure_wait_seconds, bus_labels, policy.backpressure_wait_ms / 1000.0});
}

}  // namespace

std::string render_bus_metrics(const std::filesystem::path& bus_dir) {
  // The bus label keeps two buses' series apart in one node_exporter textfile directory.
  const std::string bus = bus_dir.filename().string();
  std::vector<runtime::prom_sample> samples;
  samples.push_back({&runtime::prom::build_info, {{"version", SLUICE_VERSION}}, 1.0});
  for (const auto& agent : runtime::list_agents(bus_dir)) {
    auto box = inbox::inbox::open(bus_dir, agent);
    if (box) add_inbox(samples, bus, *box);
  }
  add_control(samples, bus, bus_dir);
  return runtime::render_prometheus(samples);
}

runtime::status write_bus_metrics(const std::filesystem::path& bus_dir) {
  return runtime::write_file_atomically(bus_dir / prom_file_name, render_bus_metrics(bus_dir));
}

}  // namespace sluice::monitors
