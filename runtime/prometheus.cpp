#include "runtime/prometheus.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <string>

#include <fmt/format.h>

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

status write_file_atomically(const std::filesystem::path& file, std::string_view text) {
  // pid + a per-process sequence: two monitors in one process (different threads) writing
  // the same file never share a temp file.
  static std::atomic<std::uint64_t> sequence{0};
  const std::filesystem::path tmp = file.string() + ".tmp." + std::to_string(::getpid()) + "." +
                                    std::to_string(sequence.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  auto os_error = [&](const char* what, int err) {
    return error{err == EACCES || err == EPERM ? errc::permission_denied : errc::io_error,
                 fmt::format("cannot {} {}: {}", what, tmp.string(), std::strerror(err))};
  };
  if (fd < 0) return os_error("create", errno);
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return os_error("write", err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return os_error("close", err);
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return error{errc::io_error, fmt::format("cannot rename {} to {}: {}", tmp.string(),
                                             file.string(), std::strerror(err))};
  }
  return done{};
}

}  // namespace sluice::runtime
