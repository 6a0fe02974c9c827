#include "monitors/load_step.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <vector>

#include "governance/clock.hpp"
#include "governance/report.hpp"
#include "governance/store.hpp"
#include "inbox/files/read_file.hpp"
#include "monitors/load_sources.hpp"
#include "runtime/config.hpp"

namespace sluice::monitors {
namespace {

std::optional<std::string> slurp(const std::filesystem::path& p) {
  auto read = inbox::read_file(p, 1u << 20);
  if (read.error != 0) return std::nullopt;
  return std::move(read.text);
}

unsigned bit(load_source s) noexcept {
  return 1U << static_cast<unsigned>(s);
}

double online_cpus() noexcept {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<double>(n) : 1.0;
}

runtime::load_level to_runtime(monitors::load_level l) noexcept {
  switch (l) {
    case monitors::load_level::low:
      return runtime::load_level::low;
    case monitors::load_level::medium:
      return runtime::load_level::medium;
    case monitors::load_level::high:
      return runtime::load_level::high;
  }
  return runtime::load_level::unknown;
}

std::optional<monitors::load_level> from_runtime(runtime::load_level l) noexcept {
  switch (l) {
    case runtime::load_level::low:
      return monitors::load_level::low;
    case runtime::load_level::medium:
      return monitors::load_level::medium;
    case runtime::load_level::high:
      return monitors::load_level::high;
    case runtime::load_level::unknown:
      break;
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(load_source s) noexcept {
  switch (s) {
    case load_source::stat:
      return "stat";
    case load_source::psi:
      return "psi";
    case load_source::loadavg:
      return "loadavg";
  }
  return "unknown";
}

load_sampler::load_sampler(std::filesystem::path proc_dir, load_source preferred)
    : proc_dir_(std::move(proc_dir)), preferred_(preferred) {}

std::optional<double> load_sampler::read(load_source s, bool& available) {
  const char* file = s == load_source::stat  ? "stat"
                     : s == load_source::psi ? "pressure/cpu"
                                             : "loadavg";
  const auto path = proc_dir_ / file;
  const auto text = slurp(path);
  std::optional<double> load;
  available = false;
  if (text) {
    if (s == load_source::stat) {
      if (auto t = monitors::parse_proc_stat(*text)) {
        available = true;
        load = meter_.step(*t);
      }
    } else if (s == load_source::psi) {
      if (auto r = monitors::parse_psi(*text)) {
        available = true;
        load = monitors::psi_load(*r);
      }
    } else if (auto l = monitors::parse_loadavg(*text)) {
      available = true;
      load = *l / online_cpus();
    }
  }
  if (!available && !(warned_ & bit(s))) {
    warned_ |= bit(s);
    spdlog::warn("load source {} ({}) is {}; falling back", to_string(s), path.string(),
                 text ? "not in the expected format" : "missing or unreadable");
  }
  return load;
}

load_sampler::reading load_sampler::sample() {
  std::vector<load_source> order{preferred_};
  if (preferred_ == load_source::psi) order.push_back(load_source::stat);
  order.push_back(preferred_ == load_source::loadavg ? load_source::stat : load_source::loadavg);
  for (auto s : order) {
    bool available = false;
    auto load = read(s, available);
    if (available) return {load, s};
  }
  return {std::nullopt, order.back()};
}

runtime::result<load_step> load_step::open(const monitor_settings& s) {
  if (auto bad = monitors::validate(s.load))
    return runtime::error{runtime::errc::invalid_argument, *bad};
  const runtime::rate_policy initial{
      runtime::defaults::batch_size,
      static_cast<std::uint32_t>(runtime::defaults::backpressure_wait.count())};
  auto ctl = runtime::bus_control::open_or_create(s.bus_dir, initial);
  if (!ctl) return ctl.err();
  // Resume from the level the last monitor published, so hysteresis spans restarts and
  // one-shot `apply-rate-limit` runs.
  monitors::load_policy policy{s.load};
  if (const auto last = ctl->load(); last.updated_ns != 0) {
    if (const auto level = from_runtime(last.level)) policy = monitors::load_policy{s.load, *level};
  }
  return load_step{s, std::move(ctl.value()), policy};
}

load_step::load_step(const monitor_settings& s, runtime::bus_control ctl,
                     monitors::load_policy policy)
    : sampler_(s.proc_dir, s.source),
      policy_(policy),
      ctl_(std::move(ctl)),
      metrics_(s.metrics_path()),
      bus_dir_(s.bus_dir) {}

// The bus policy's decisions so far, per rule (cumulative counts, as Prometheus has them).
void load_step::emit_policy_counters() {
  if (!std::filesystem::exists(bus_dir_ / governance::policy_file_name)) return;
  auto s = governance::store::open(bus_dir_);
  if (!s) return;
  auto p = s.value().current();
  if (!p || p.value() == nullptr) return;
  const auto n = governance::snapshot(s.value().raw(), *p.value(), governance::realtime_ns());
  for (const auto& r : n.rules) {
    (void)metrics_.emit("rate_limit.allowed", static_cast<double>(r.allowed), "count",
                        {{"rule", r.name}});
    (void)metrics_.emit("rate_limit.denied", static_cast<double>(r.denied), "count",
                        {{"rule", r.name}});
  }
}

load_step_result load_step::step(std::chrono::steady_clock::time_point now,
                                 std::chrono::nanoseconds valid_for) {
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  ctl_.beat(static_cast<std::int32_t>(::getpid()), now_ns);
  const auto r = sampler_.sample();
  load_step_result out{r.load, r.source, std::nullopt};
  if (!r.load) return out;
  const auto d = policy_.step(*r.load);
  out.decision = d;
  const auto milli =
      static_cast<std::uint32_t>(std::lround(std::clamp(d.load, 0.0, 1000.0) * 1000.0));
  ctl_.publish({d.setting.batch_size, d.setting.wait_ms}, milli, to_runtime(d.level), now_ns,
               valid_for.count());
  if (d.changed)
    spdlog::info("load {:.2f} per cpu ({}): {} -> batch {}, wait {} ms", d.load,
                 to_string(r.source), to_string(d.level), d.setting.batch_size, d.setting.wait_ms);
  (void)metrics_.emit("system.load_per_cpu", d.load, "ratio", {{"source", to_string(r.source)}});
  (void)metrics_.emit("rate_limit.batch_size", d.setting.batch_size, "count");
  (void)metrics_.emit("rate_limit.backpressure_wait_ms", d.setting.wait_ms, "milliseconds");
  emit_policy_counters();
  return out;
}

}  // namespace sluice::monitors
