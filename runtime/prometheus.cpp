#include "runtime/prometheus.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace sluice::runtime {
namespace {

// Label values escape backslash, double quote and newline; HELP text only backslash and
// newline (text exposition format 0.0.4).
void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (std::nearbyint(v) == v && std::fabs(v) < 9007199254740992.0) {
    out += fmt::format("{}", static_cast<std::int64_t>(v));
  } else {
    out += fmt::format("{}", v);  // shortest round-trip representation
  }
}

}  // namespace

std::string render_prometheus(const std::vector<prom_sample>& samples) {
  std::vector<const prom_family*> order;
  for (const auto& s : samples) {
    bool seen = false;
    for (const auto* f : order) seen = seen || f == s.family;
    if (!seen) order.push_back(s.family);
  }
  std::string out;
  for (const auto* family : order) {
    out += "# HELP ";
    out += family->name;
    out += ' ';
    append_escaped(out, family->help, false);
    out += "\n# TYPE ";
    out += family->name;
    out += family->type == prom_type::counter ? " counter\n" : " gauge\n";
    for (const auto& s : samples) {
      if (s.family != family) continue;
      out += family->name;
      if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += s.labels[i].first;
          out += "=\"";
          append_escaped(out, s.labels[i].second, true);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      append_value(out, s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace sluice::runtime
