#include "runtime/bus_dir.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "inbox/inbox.hpp"

namespace sluice::runtime {
namespace {

namespace fs = std::filesystem;

// Bus names follow the agent-name rule, so a bus name is always one safe path component.
bool is_valid_name(std::string_view name) noexcept {
  return inbox::is_valid_agent_name(name);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

error bus_dir_error(const fs::path& p, const char* what, int err) {
  const errc code = inbox::errc_of_errno(err);
  std::string hint;
  if (code == errc::permission_denied) {
    hint = "; choose a writable place with --dir or SLUICE_DIR";
  } else if (code == errc::no_space) {
    hint = "; free space there or choose another place with --dir";
  }
  return error{code, fmt::format("bus directory {}: cannot {}: {}{}", p.string(), what,
                                 std::strerror(err), hint)};
}

error symlink_error(const fs::path& p) {
  return error{errc::path_is_symlink,
               fmt::format("bus directory {} is a symlink; sluice refuses to follow it (remove "
                           "it or point --dir at the real directory)",
                           p.string())};
}

// bridge-<peer>.json and its temp file bridge-<peer>.json.tmp<pid>, written by
// runtime/bridge_status.hpp (peers follow the agent-name rule).
bool is_bridge_status_file(std::string_view name) {
  constexpr std::string_view prefix = "bridge-";
  constexpr std::string_view suffix = ".json";
  if (!starts_with(name, prefix)) return false;
  const auto json = name.find(suffix, prefix.size());
  if (json == std::string_view::npos ||
      !is_valid_name(name.substr(prefix.size(), json - prefix.size())))
    return false;
  const auto rest = name.substr(json + suffix.size());
  if (rest.empty()) return true;
  if (!starts_with(rest, ".tmp")) return false;
  const auto pid = rest.substr(4);
  return !pid.empty() &&
         std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Files sluice itself puts into a bus directory.
bool is_sluice_file(std::string_view name) {
  static constexpr std::string_view exact[] = {bus_marker_name, "bus.ctl", "metrics.prom",
                                               "sluice.toml", "policy.ctl"};
  for (auto e : exact) {
    if (name == e) return true;
  }
  for (std::string_view log : {"metrics.jsonl", "alerts.jsonl"}) {
    if (name == log) return true;
    if (starts_with(name, log)) {
      const auto rest = name.substr(log.size());
      if (rest == ".1" || rest == ".lock") return true;
    }
  }
  if (ends_with(name, ".inbox")) return is_valid_name(name.substr(0, name.size() - 6));
  if (is_bridge_status_file(name)) return true;
  // Temporary files of atomic writers: metrics.prom.tmp.<pid>, bus.ctl.tmp.<pid>,
  // .<agent>.inbox.tmp.<pid>.<n> (inbox/open.cpp). Owned by sluice, safe to delete.
  const auto tmp = name.find(".tmp.");
  if (tmp != std::string_view::npos) {
    auto base = name.substr(0, tmp);
    if (starts_with(base, ".")) base.remove_prefix(1);
    const auto tail = name.substr(tmp + 5);
    const bool numeric = !tail.empty() && std::all_of(tail.begin(), tail.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == '.';
    });
    return numeric &&
           (base == "metrics.prom" || base == "bus.ctl" || base == "policy.ctl" ||
            (ends_with(base, ".inbox") && is_valid_name(base.substr(0, base.size() - 6))));
  }
  return false;
}

}  // namespace

error bus_file_error(const fs::path& file, const char* what, int err,
                     std::string_view when_missing) {
  switch (const errc code = inbox::errc_of_errno(err)) {
    case errc::not_found:
      return error{code, fmt::format("{} does not exist{}", file.string(), when_missing)};
    case errc::path_is_symlink:
      return error{code, fmt::format("{} is a symlink; sluice refuses to follow it (remove it)",
                                     file.string())};
    case errc::permission_denied:
      return error{code, fmt::format("cannot {} {}: {} (it belongs to another user, or the bus "
                                     "directory is read-only)",
                                     what, file.string(), std::strerror(err))};
    case errc::no_space:
      return error{code,
                   fmt::format("cannot {} {}: {}; free space on its filesystem (df {})", what,
                               file.string(), std::strerror(err), file.parent_path().string())};
    default:
      return error{code, fmt::format("cannot {} {}: {}", what, file.string(), std::strerror(err))};
  }
}

result<bus_location> resolve_bus(const bus_flags& flags) {
  if (!flags.dir.empty() && !flags.bus.empty()) {
    return error{errc::invalid_argument, "--dir and --bus both name the bus: give one of them"};
  }
  if (!flags.dir.empty()) return bus_location{fs::path(flags.dir), {}, "--dir"};
  // A flag beats the environment: an agent run by `sluice launch` has SLUICE_DIR set, and its
  // `sluice --bus other send ...` must reach the bus it names.
  const char* env_dir = std::getenv("SLUICE_DIR");
  if (flags.bus.empty() && env_dir != nullptr) {
    if (*env_dir == '\0') {
      return error{errc::invalid_argument,
                   "SLUICE_DIR is set but empty; unset it or give a directory"};
    }
    return bus_location{fs::path(env_dir), {}, "SLUICE_DIR"};
  }
  const char* env_bus = std::getenv("SLUICE_BUS");
  std::string bus = default_bus_name;
  const char* source = "default";
  if (!flags.bus.empty()) {
    bus = flags.bus;
    source = "--bus";
  } else if (env_bus != nullptr) {
    bus = env_bus;
    source = "SLUICE_BUS";
  }
  if (!is_valid_name(bus)) {
    return error{errc::invalid_name,
                 fmt::format("{} '{}' is not a valid bus name; use 1 to 64 of A-Z a-z 0-9 _ -",
                             source, bus)};
  }
  return bus_location{fs::path(default_bus_root) / bus, bus, source};
}

status ensure_bus_dir(const fs::path& dir, inbox::bus_sharing sharing) {
  if (auto e = inbox::ensure_bus_directory(dir, sharing)) return *e;
  return done{};
}

status check_bus_dir(const fs::path& dir, inbox::bus_sharing sharing) {
  if (auto e = inbox::check_bus_directory(dir, sharing)) return *e;
  return done{};
}

fs::path inbox_file(const fs::path& dir, std::string_view agent) {
  return dir / (std::string(agent) + ".inbox");
}

std::vector<std::string> list_agents(const fs::path& dir) {
  std::vector<std::string> agents;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!ends_with(name, ".inbox")) continue;
    const std::string agent = name.substr(0, name.size() - 6);
    std::error_code type_ec;
    if (is_valid_name(agent) && it->symlink_status(type_ec).type() == fs::file_type::regular) {
      agents.push_back(agent);
    }
  }
  std::sort(agents.begin(), agents.end());
  return agents;
}

bool is_sluice_bus(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  std::error_code ec;
  bool any_sluice = false;
  bool marked = false;
  bool foreign = false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    marked = marked || name == bus_marker_name;
    foreign = foreign || !is_sluice_file(name);
    any_sluice = true;
  }
  return !ec && (marked || (any_sluice && !foreign));
}

status remove_bus(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return done{};
    return bus_dir_error(dir, "inspect", errno);
  }
  if (S_ISLNK(st.st_mode)) return symlink_error(dir);
  if (!is_sluice_bus(dir)) {
    return error{errc::invalid_argument,
                 fmt::format("{} is not a sluice bus (no {} marker, or it holds files sluice "
                             "did not make); refusing to remove it",
                             dir.string(), bus_marker_name)};
  }
  std::error_code ec;
  std::vector<fs::path> doomed;
  bool keep_dir = false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == "sluice.toml" || !is_sluice_file(name)) {
      keep_dir = true;  // the user's configuration, or a file that is not ours: left alone
      continue;
    }
    doomed.push_back(it->path());
  }
  if (ec) return bus_dir_error(dir, "list", ec.value());
  for (const auto& p : doomed) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return bus_dir_error(p, "remove", errno);
  }
  if (!keep_dir && ::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return bus_dir_error(dir, "remove", errno);
  }
  return done{};
}

}  // namespace sluice::runtime
