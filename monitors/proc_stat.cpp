#include "monitors/proc_stat.hpp"

#include <charconv>

namespace sluice::monitors {
namespace {

std::string_view skip_spaces(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::uint64_t forward(std::uint64_t now, std::uint64_t before) noexcept {
  return now >= before ? now - before : 0;
}

}  // namespace

std::optional<cpu_times> parse_proc_stat(std::string_view text) noexcept {
  std::string_view line;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.substr(0, 4) == "cpu " || line.substr(0, 4) == "cpu\t") break;
    line = {};
  }
  if (line.empty()) return std::nullopt;
  line.remove_prefix(3);
  cpu_times t;
  std::uint64_t* fields[] = {&t.user, &t.nice,    &t.system, &t.idle,  &t.iowait,
                             &t.irq,  &t.softirq, &t.steal,  &t.guest, &t.guest_nice};
  std::size_t parsed = 0;
  for (auto* f : fields) {
    line = skip_spaces(line);
    if (line.empty()) break;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), *f);
    if (ec != std::errc{}) return std::nullopt;
    line.remove_prefix(static_cast<std::size_t>(end - line.data()));
    ++parsed;
  }
  // user, nice, system and idle exist on every kernel; fewer means this is not /proc/stat.
  if (parsed < 4) return std::nullopt;
  return t;
}

std::optional<double> cpu_load_meter::step(const cpu_times& now) noexcept {
  const auto prev = prev_;
  prev_ = now;
  if (!prev) return std::nullopt;
  const auto total_now = now.busy() + now.idle_all();
  const auto total_prev = prev->busy() + prev->idle_all();
  if (total_now <= total_prev) return std::nullopt;
  const auto busy = forward(now.user, prev->user) + forward(now.nice, prev->nice) +
                    forward(now.system, prev->system) + forward(now.irq, prev->irq) +
                    forward(now.softirq, prev->softirq) + forward(now.steal, prev->steal);
  const auto idle = forward(now.idle, prev->idle) + forward(now.iowait, prev->iowait);
  if (busy + idle == 0) return std::nullopt;
  return static_cast<double>(busy) / static_cast<double>(busy + idle);
}

}  // namespace sluice::monitors
