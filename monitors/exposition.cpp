#include "monitors/exposition.hpp"

#include <chrono>

#include "backpressure/circuit_breaker.hpp"
#include "governance/clock.hpp"
#include "governance/report.hpp"
#include "governance/store.hpp"
#include "inbox/inbox.hpp"
#include "runtime/atomic_file.hpp"
#include "runtime/bridge_status.hpp"
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

// A bridge's links, from the bridge-<peer>.json files its status reporter rewrites five times a
// second (runtime/bridge_status.hpp): the one record of a link's state, also read by get-stats
// and top. Counters start again from 0 when the bridge process restarts.
namespace bridge_prom {
using runtime::prom_family;
using runtime::prom_type;
constexpr prom_family link_up{"sluice_bridge_link_up", prom_type::gauge,
                              "1 while the bridge's link to the peer is connected, else 0."};
constexpr prom_family credits{
    "sluice_bridge_credits", prom_type::gauge,
    "Messages the far bridge lets this one send now, summed over destination inboxes."};
constexpr prom_family in_flight{"sluice_bridge_in_flight_messages", prom_type::gauge,
                                "Messages sent to the peer and not yet acknowledged."};
constexpr prom_family held{
    "sluice_bridge_held_messages", prom_type::gauge,
    "Messages waiting in holding inboxes here for full destination inboxes of the peer."};
constexpr prom_family sent{"sluice_bridge_sent_messages_total", prom_type::counter,
                           "Messages sent to the peer for the first time."};
constexpr prom_family resent{"sluice_bridge_resent_messages_total", prom_type::counter,
                             "Messages sent to the peer again after a dropped link."};
constexpr prom_family acked{"sluice_bridge_acked_messages_total", prom_type::counter,
                            "Messages the peer acknowledged as pushed into their inbox."};
constexpr prom_family received{"sluice_bridge_received_messages_total", prom_type::counter,
                               "Messages from the peer pushed into local inboxes."};
constexpr prom_family duplicates{
    "sluice_bridge_duplicate_messages_total", prom_type::counter,
    "Messages the peer sent again that were delivered already, so not pushed."};
constexpr prom_family undeliverable{
    "sluice_bridge_undeliverable_messages_total", prom_type::counter,
    "Messages without a valid address or too large for their inbox, not forwarded."};
constexpr prom_family connects{"sluice_bridge_connects_total", prom_type::counter,
                               "Handshakes with the peer that succeeded."};
}  // namespace bridge_prom

void add_bridges(std::vector<runtime::prom_sample>& out, const std::string& bus,
                 const std::filesystem::path& dir) {
  for (const auto& link : runtime::read_bridge_statuses(dir)) {
    const labels l{{"bus", bus}, {"peer", link.peer}};
    const auto add = [&](const runtime::prom_family& f, double v) { out.push_back({&f, l, v}); };
    add(bridge_prom::link_up, link.state == "connected" ? 1.0 : 0.0);
    add(bridge_prom::credits, static_cast<double>(link.credits));
    add(bridge_prom::in_flight, static_cast<double>(link.in_flight));
    add(bridge_prom::held, static_cast<double>(link.held));
    add(bridge_prom::sent, static_cast<double>(link.sent));
    add(bridge_prom::resent, static_cast<double>(link.resent));
    add(bridge_prom::acked, static_cast<double>(link.acked));
    add(bridge_prom::received, static_cast<double>(link.received));
    add(bridge_prom::duplicates, static_cast<double>(link.duplicates));
    add(bridge_prom::undeliverable, static_cast<double>(link.undeliverable));
    add(bridge_prom::connects, static_cast<double>(link.connects));
  }
}

// The bus policy (governance/): decisions by rule and outcome, quotas, leases.
constexpr runtime::prom_family policy_decisions{
    "sluice_policy_decisions_total", runtime::prom_type::counter,
    "Send decisions of each policy rule, by outcome (logged: a log rule would have denied)."};
constexpr runtime::prom_family limit_acquires{"sluice_limit_acquires_total",
                                              runtime::prom_type::counter,
                                              "Acquires of each named limit, by outcome."};
constexpr runtime::prom_family quota_used{"sluice_quota_used", runtime::prom_type::gauge,
                                          "Units of a limit's quota used in its current period."};
constexpr runtime::prom_family quota_limit{"sluice_quota_limit", runtime::prom_type::gauge,
                                           "Units a limit's quota allows per period."};
constexpr runtime::prom_family lease_holders{"sluice_lease_holders", runtime::prom_type::gauge,
                                             "Leases of a limit held now."};

void add_governance(std::vector<runtime::prom_sample>& out, const std::string& bus,
                    const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / governance::policy_file_name)) return;
  auto s = governance::store::open(dir);
  if (!s) return;
  auto p = s.value().current();
  if (!p || p.value() == nullptr) return;
  const auto n = governance::snapshot(s.value().raw(), *p.value(), governance::realtime_ns());
  for (const auto& r : n.rules) {
    const std::pair<const char*, std::uint64_t> outcomes[] = {
        {"allowed", r.allowed}, {"denied", r.denied}, {"demoted", r.demoted}, {"logged", r.logged}};
    for (const auto& [outcome, value] : outcomes)
      out.push_back({&policy_decisions,
                     labels{{"bus", bus}, {"rule", r.name}, {"outcome", outcome}},
                     static_cast<double>(value)});
  }
  for (const auto& l : n.limits) {
    const labels ll{{"bus", bus}, {"limit", l.name}};
    auto granted = ll;
    granted.emplace_back("outcome", "granted");
    auto refused = ll;
    refused.emplace_back("outcome", "refused");
    out.push_back({&limit_acquires, granted, static_cast<double>(l.granted)});
    out.push_back({&limit_acquires, refused, static_cast<double>(l.refused)});
    out.push_back({&lease_holders, ll, static_cast<double>(l.holders)});
    if (l.has_quota) {
      out.push_back({&quota_used, ll, static_cast<double>(l.quota_used)});
      out.push_back({&quota_limit, ll, static_cast<double>(l.quota_limit)});
    }
  }
}

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
  for (const auto each :
       {backpressure::breaker_state::closed, backpressure::breaker_state::half_open,
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
  add_bridges(samples, bus, bus_dir);
  add_governance(samples, bus, bus_dir);
  return runtime::render_prometheus(samples);
}

runtime::status write_bus_metrics(const std::filesystem::path& bus_dir) {
  return runtime::write_file_atomically(bus_dir / prom_file_name, render_bus_metrics(bus_dir));
}

}  // namespace sluice::monitors
