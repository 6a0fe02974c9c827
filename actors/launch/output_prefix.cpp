#include "actors/launch/output_prefix.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace sluice::actors {

namespace {
// Bold-free, readable on dark and light terminals.
constexpr const char* palette[] = {"\033[36m", "\033[33m", "\033[32m", "\033[35m",
                                   "\033[34m", "\033[96m", "\033[93m", "\033[92m"};
constexpr const char* reset = "\033[0m";
}  // namespace

output_prefixer::output_prefixer(const std::vector<std::string>& names, bool color_out,
                                 bool color_err)
    : names_(names), color_{color_out, color_err} {
  for (const auto& n : names_) width_ = std::max(width_, n.size());
}

output_prefixer output_prefixer::for_terminal(const std::vector<std::string>& names) {
  const bool allowed = std::getenv("NO_COLOR") == nullptr;
  return output_prefixer(names, allowed && ::isatty(1), allowed && ::isatty(2));
}

std::string output_prefixer::format(std::string_view agent, actors::output_stream s,
                                    std::string_view line) const {
  const bool color = color_[s == actors::output_stream::out ? 0 : 1];
  std::string out;
  out.reserve(width_ + line.size() + 16);
  if (color) {
    const auto it = std::find(names_.begin(), names_.end(), agent);
    const auto index = static_cast<std::size_t>(it - names_.begin());
    out += palette[index % (sizeof palette / sizeof *palette)];
  }
  out += agent;
  if (agent.size() < width_) out.append(width_ - agent.size(), ' ');
  out += " | ";
  if (color) out += reset;
  out += line;
  out += '\n';
  return out;
}

void output_prefixer::write(std::string_view agent, actors::output_stream s,
                            std::string_view line) const {
  const std::string text = format(agent, s, line);
  const int fd = s == actors::output_stream::out ? 1 : 2;
  std::string_view left = text;
  while (!left.empty()) {
    const ssize_t n = ::write(fd, left.data(), left.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stdout closed (launch | head): the agent keeps running regardless
    left.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace sluice::actors
