#include "runtime/config.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <system_error>
#include <vector>

#include "inbox/files/bus_directory.hpp"
#include "runtime/duration.hpp"
#include "runtime/toml_words.hpp"

namespace sluice::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

constexpr std::array<knob_info, knob_count> knobs = {{
    {knob::max_inbox_size, "MAX_INBOX_SIZE", "inbox.max_size", "an integer in 1..100000"},
    {knob::slot_size, "SLUICE_SLOT_SIZE", "inbox.slot_size",
     "an integer in 256..1048576 that is a multiple of 64"},
    {knob::critical_reserve, "SLUICE_CRITICAL_RESERVE", "inbox.critical_reserve",
     "an integer in 0..10000"},
    {knob::backpressure_wait, "BACKPRESSURE_WAIT_MS", "backpressure.wait_ms",
     "an integer number of milliseconds in 1..60000"},
    {knob::backpressure_retries, "BACKPRESSURE_MAX_RETRIES", "backpressure.max_retries",
     "an integer in 1..100000"},
    {knob::check_interval, "RATE_LIMIT_CHECK_INTERVAL", "rate_limit.check_interval",
     "a duration from 0.1s to 1h (seconds like 5 or 0.5, or 250ms, 2m)"},
    {knob::high_load_threshold, "RATE_LIMIT_HIGH_LOAD_THRESHOLD", "rate_limit.high_load_threshold",
     "a number in 0..1 above the medium threshold"},
    {knob::medium_load_threshold, "RATE_LIMIT_MEDIUM_LOAD_THRESHOLD",
     "rate_limit.medium_load_threshold", "a number in 0..1 below the high threshold"},
    {knob::batch_size, "CFN_BATCH_SIZE", "rate_limit.batch_size", "an integer in 1..10000"},
    {knob::metrics_file, "METRICS_FILE", "metrics.file", "a non-empty file path"},
    {knob::alert_log_file, "ALERT_LOG_FILE", "alerts.file", "a non-empty file path"},
    {knob::log_level, "SLUICE_LOG_LEVEL", "log.level",
     "one of trace, debug, info, warn, error, off"},
}};

// describe() indexes this table by the enum value.
constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < knobs.size(); ++i) {
    if (static_cast<std::size_t>(knobs[i].id) != i) return false;
  }
  return true;
}
static_assert(in_enum_order());

// Where a value came from; text for flag/env, node for sluice.toml.
struct raw_value {
  enum class origin { none, flag, env, toml } from = origin::none;
  std::string text;
  toml::node_view<const toml::node> node;
  std::string where;  // "--flag", "MAX_INBOX_SIZE", "/path/sluice.toml: inbox.max_size"
};

std::string shown(const raw_value& raw) {
  if (raw.from != raw_value::origin::toml) return "'" + raw.text + "'";
  // Ask the type before the value: toml++'s value<int64_t>() of a float converts it, which is
  // undefined for 5.1e100 (found by config_fuzz).
  if (raw.node.is_string()) return "\"" + raw.node.value<std::string>().value_or("") + "\"";
  if (raw.node.is_integer()) return std::to_string(raw.node.value<std::int64_t>().value_or(0));
  if (raw.node.is_floating_point())
    return fmt::format("{}", raw.node.value<double>().value_or(0.0));
  if (raw.node.is_boolean()) return "(a boolean)";
  if (raw.node.is_table()) return "(a table)";
  if (raw.node.is_array()) return "(an array)";
  return "(a date or time)";
}

error invalid(const raw_value& raw, const knob_info& info) {
  const char* sep = raw.from == raw_value::origin::toml ? " = " : "=";
  return error{errc::invalid_argument, fmt::format("{}{}{} is invalid: expected {}", raw.where, sep,
                                                   shown(raw), info.accepted)};
}

std::optional<std::int64_t> integer_of(const raw_value& raw) {
  if (raw.from == raw_value::origin::toml) {
    if (!raw.node.is_integer()) return std::nullopt;
    return raw.node.value<std::int64_t>();
  }
  std::int64_t v = 0;
  const char* b = raw.text.data();
  const char* e = b + raw.text.size();
  const auto [end, ec] = std::from_chars(b, e, v);
  if (ec != std::errc{} || end != e || raw.text.empty()) return std::nullopt;
  return v;
}

std::optional<double> number_of(const raw_value& raw) {
  if (raw.from == raw_value::origin::toml) {
    if (!raw.node.is_number()) return std::nullopt;
    return raw.node.value<double>();
  }
  double v = 0;
  const char* b = raw.text.data();
  const char* e = b + raw.text.size();
  const auto [end, ec] = std::from_chars(b, e, v, std::chars_format::fixed);
  if (ec != std::errc{} || end != e || raw.text.empty()) return std::nullopt;
  return v;
}

std::optional<std::string> string_of(const raw_value& raw) {
  if (raw.from == raw_value::origin::toml) {
    if (!raw.node.is_string()) return std::nullopt;
    return raw.node.value<std::string>();
  }
  return raw.text;
}

// The keys sluice.toml may hold; anything else is reported as a typo.
bool is_known_key(std::string_view key) {
  for (const auto& k : knobs) {
    if (key == k.toml_key) return true;
  }
  return false;
}

std::vector<std::string_view> known_keys() {
  std::vector<std::string_view> keys;
  for (const auto& k : knobs) keys.push_back(k.toml_key);
  return keys;
}

// A sluice.toml sluice may obey: its text, or nothing when there is none.
//
// It may set where metrics and alerts are written and how large inboxes are, so it is obeyed
// only if nobody but the caller and root can have written it (ssh's rule for ~/.ssh/config):
// owned by the caller or root, not writable by group or others. In a group bus the bus group
// is trusted as well (the bus directory is setgid and group-writable, and every member can
// replace any file in it anyway): there the file may belong to any member and be writable by
// the bus group, as long as it is group-owned by that group. It is opened first and judged by
// fstat of what was opened, so it cannot be swapped between the check and the read.
//
// The copy in the bus directory is only as trustworthy as the directory: that is judged first
// (inbox/bus_directory.hpp), and a symlink there is refused. The user's own copy
// ($XDG_CONFIG_HOME/sluice/sluice.toml) may be a symlink, as dotfile managers make them; the
// file it leads to is judged the same way.
struct toml_source {
  fs::path path;
  bool in_bus_dir;
};

constexpr off_t max_toml_bytes = 1 << 20;

result<std::optional<std::string>> read_trusted_toml(const fs::path& bus_dir,
                                                     const toml_source& source) {
  using text = std::optional<std::string>;
  const auto& path = source.path;
  struct stat dir_st {};
  bool group_bus = false;
  if (source.in_bus_dir) {
    if (auto e = inbox::check_bus_directory(bus_dir, inbox::bus_sharing::group)) {
      if (e->code == errc::not_found) return text{};
      return *e;
    }
    if (::lstat(bus_dir.c_str(), &dir_st) != 0) return text{};
    group_bus = (dir_st.st_mode & S_ISGID) != 0 && (dir_st.st_mode & S_IWGRP) != 0;
  }
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (source.in_bus_dir ? O_NOFOLLOW : 0);
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    struct stat st {};
    if (err == ENOENT || err == ENOTDIR) return text{};
    if (err == ELOOP && source.in_bus_dir) {
      return error{errc::path_is_symlink,
                   fmt::format("{} is a symlink; sluice does not follow symlinks in a bus "
                               "directory: put the file itself there",
                               path.string())};
    }
    // A user directory this process cannot even enter holds no configuration for it.
    if (err == EACCES && !source.in_bus_dir && ::stat(path.c_str(), &st) != 0) return text{};
    return error{inbox::errc_of_errno(err),
                 fmt::format("cannot read {}: {}; make it readable or remove it", path.string(),
                             std::strerror(err))};
  }
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_at_end{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return error{errc::io_error,
                 fmt::format("cannot inspect {}: {}", path.string(), std::strerror(errno))};
  }
  if (!S_ISREG(st.st_mode)) {
    return error{errc::invalid_argument,
                 fmt::format("{} is not a regular file; sluice.toml must be one", path.string())};
  }
  const bool bus_group_file = group_bus && st.st_gid == dir_st.st_gid;
  const uid_t me = ::geteuid();
  if (st.st_uid != me && st.st_uid != 0 && !bus_group_file) {
    return error{errc::permission_denied,
                 fmt::format("{} belongs to uid {}, not to you (uid {}) or root: sluice does not "
                             "obey a configuration someone else wrote; remove it, or chown it to "
                             "yourself if you trust it",
                             path.string(), st.st_uid, me)};
  }
  const bool group_write_ok = bus_group_file;
  if ((st.st_mode & S_IWOTH) != 0 || ((st.st_mode & S_IWGRP) != 0 && !group_write_ok)) {
    return error{
        errc::permission_denied,
        fmt::format("{} is writable by {} (mode {:04o}): anyone who can change it could "
                    "point your metrics and alerts elsewhere; chmod go-w {}",
                    path.string(), (st.st_mode & S_IWOTH) != 0 ? "every user" : "its group",
                    st.st_mode & 07777, path.string())};
  }
  if (st.st_size > max_toml_bytes) {
    return error{errc::invalid_argument, fmt::format("{} is {} bytes; a sluice.toml is at most {}",
                                                     path.string(), st.st_size, max_toml_bytes)};
  }
  std::string content;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return error{errc::io_error,
                   fmt::format("cannot read {}: {}", path.string(), std::strerror(errno))};
    }
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
    if (content.size() > static_cast<std::size_t>(max_toml_bytes)) {
      return error{errc::invalid_argument, fmt::format("{} grew past {} bytes while being read",
                                                       path.string(), max_toml_bytes)};
    }
  }
  return text{std::move(content)};
}

}  // namespace

const knob_info& describe(knob k) noexcept {
  return knobs[static_cast<std::size_t>(k)];
}

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

struct config::impl {
  struct flag_value {
    std::string value;
    std::string name;
  };
  struct toml_file {
    fs::path path;
    toml::table table;
  };

  fs::path bus_dir;
  env_lookup env;
  fs::path user_dir;
  std::array<std::optional<flag_value>, knob_count> flags;
  bool toml_loaded = false;
  std::optional<error> toml_error;
  std::vector<toml_file> tomls;

  fs::path user_config_dir() const {
    if (!user_dir.empty()) return user_dir;
    // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty() && fs::path(*xdg).is_absolute()) {
      return fs::path(*xdg) / "sluice";
    }
    if (auto home = env("HOME"); home && !home->empty())
      return fs::path(*home) / ".config" / "sluice";
    return {};
  }

  // Parses every sluice.toml that exists, once, the first time a knob reaches that level.
  status load_tomls() {
    if (toml_loaded) {
      if (toml_error) return *toml_error;
      return done{};
    }
    toml_loaded = true;
    // An empty bus_dir must not turn into ./sluice.toml.
    std::vector<toml_source> candidates;
    if (!bus_dir.empty()) candidates.push_back({bus_dir / "sluice.toml", true});
    if (auto user = user_config_dir(); !user.empty())
      candidates.push_back({user / "sluice.toml", false});
    for (const auto& source : candidates) {
      const auto& path = source.path;
      auto text = read_trusted_toml(bus_dir, source);
      if (!text) {
        toml_error = text.err();
        return *toml_error;
      }
      if (!text.value()) continue;
      try {
        toml_file f{path, toml::parse(*text.value(), path.string())};
        std::optional<error> bad_key;
        f.table.for_each([&](const toml::key& section, const toml::node& node) {
          if (bad_key) return;
          const auto* sub = node.as_table();
          if (sub == nullptr) {
            bad_key = error{errc::invalid_argument,
                            fmt::format("{}: {}: not a section; sluice.toml keys are sections "
                                        "such as [inbox] max_size = 1000",
                                        toml_place(node.source()), section.str())};
            return;
          }
          sub->for_each([&](const toml::key& key, const toml::node& value) {
            const std::string dotted = std::string(section.str()) + "." + std::string(key.str());
            if (!bad_key && !is_known_key(dotted)) {
              bad_key = error{errc::invalid_argument,
                              fmt::format("{}: {}: {}", toml_place(value.source()), dotted,
                                          unknown_key_problem(known_keys()))};
            }
          });
        });
        if (bad_key) {
          toml_error = *bad_key;
          return *bad_key;
        }
        tomls.push_back(std::move(f));
      } catch (const toml::parse_error& e) {
        toml_error =
            error{errc::invalid_argument,
                  fmt::format("{}:{}:{}: not valid TOML: {}", path.string(), e.source().begin.line,
                              e.source().begin.column, e.description())};
        return *toml_error;
      }
    }
    return done{};
  }

  result<raw_value> lookup(knob k) {
    const auto& info = describe(k);
    raw_value raw;
    if (const auto& f = flags[static_cast<std::size_t>(k)]) {
      raw.from = raw_value::origin::flag;
      raw.text = f->value;
      raw.where = f->name;
      return raw;
    }
    if (auto v = env(info.env)) {
      raw.from = raw_value::origin::env;
      raw.text = *v;
      raw.where = info.env;
      return raw;
    }
    if (auto loaded = load_tomls(); !loaded) return loaded.err();
    for (const auto& f : tomls) {
      auto node = f.table.at_path(info.toml_key);
      if (node) {
        raw.from = raw_value::origin::toml;
        raw.node = node;
        raw.where = toml_place(node.node()->source()) + ": " + info.toml_key;
        return raw;
      }
    }
    return raw;
  }

  result<std::uint32_t> get_uint(knob k, std::uint32_t fallback, std::int64_t lo, std::int64_t hi,
                                 std::uint32_t multiple_of = 1) {
    auto raw = lookup(k);
    if (!raw) return raw.err();
    if (raw->from == raw_value::origin::none) return fallback;
    const auto v = integer_of(*raw);
    if (!v || *v < lo || *v > hi || *v % multiple_of != 0) return invalid(*raw, describe(k));
    return static_cast<std::uint32_t>(*v);
  }

  result<double> get_threshold(knob k, double fallback) {
    auto raw = lookup(k);
    if (!raw) return raw.err();
    if (raw->from == raw_value::origin::none) return fallback;
    const auto v = number_of(*raw);
    if (!v || !(*v >= 0.0 && *v <= 1.0)) return invalid(*raw, describe(k));
    return *v;
  }

  result<fs::path> get_path(knob k, const char* default_name) {
    auto raw = lookup(k);
    if (!raw) return raw.err();
    if (raw->from == raw_value::origin::none) return bus_dir / default_name;
    const auto v = string_of(*raw);
    if (!v || v->empty()) return invalid(*raw, describe(k));
    return fs::path(*v);
  }
};

config::config(fs::path bus_dir, env_lookup env, fs::path user_config_dir)
    : p_(std::make_unique<impl>()) {
  p_->bus_dir = std::move(bus_dir);
  p_->env = std::move(env);
  p_->user_dir = std::move(user_config_dir);
}
config::config(config&&) noexcept = default;
config& config::operator=(config&&) noexcept = default;
config::~config() = default;

void config::set_flag(knob k, std::string value, std::string flag_name) {
  p_->flags[static_cast<std::size_t>(k)] = impl::flag_value{std::move(value), std::move(flag_name)};
}

result<std::uint32_t> config::max_inbox_size() {
  return p_->get_uint(knob::max_inbox_size, defaults::max_inbox_size, 1, limits::max_inbox_size);
}
result<std::uint32_t> config::slot_size() {
  return p_->get_uint(knob::slot_size, defaults::slot_size, limits::min_slot_size,
                      limits::max_slot_size, 64);
}
result<std::uint32_t> config::critical_reserve() {
  return p_->get_uint(knob::critical_reserve, defaults::critical_reserve, 0,
                      limits::max_critical_reserve);
}
result<inbox::create_options> config::new_inbox_options() {
  inbox::create_options opts;
  auto capacity = max_inbox_size();
  if (!capacity) return capacity.err();
  auto slot = slot_size();
  if (!slot) return slot.err();
  auto reserve = critical_reserve();
  if (!reserve) return reserve.err();
  opts.capacity = *capacity;
  opts.slot_size = *slot;
  opts.critical_reserve = *reserve;
  return opts;
}
result<milliseconds> config::backpressure_wait() {
  auto ms = p_->get_uint(knob::backpressure_wait,
                         static_cast<std::uint32_t>(defaults::backpressure_wait.count()), 1, 60000);
  if (!ms) return ms.err();
  return milliseconds(*ms);
}
result<std::uint32_t> config::backpressure_retries() {
  return p_->get_uint(knob::backpressure_retries, defaults::backpressure_retries, 1, 100000);
}

result<milliseconds> config::check_interval() {
  const auto& info = describe(knob::check_interval);
  auto raw = p_->lookup(knob::check_interval);
  if (!raw) return raw.err();
  if (raw->from == raw_value::origin::none) return defaults::check_interval;
  std::optional<nanoseconds> ns;
  if (raw->from == raw_value::origin::toml && raw->node.is_number()) {
    const double secs = raw->node.value<double>().value_or(-1.0);
    if (secs >= 0.0 && secs <= 86400.0) ns = duration_cast<nanoseconds>(duration<double>(secs));
  } else if (auto text = string_of(*raw)) {
    if (auto parsed = parse_duration(*text, info.env)) ns = *parsed;
  }
  if (!ns || *ns < milliseconds(100) || *ns > hours(1)) return invalid(*raw, info);
  return duration_cast<milliseconds>(*ns);
}

result<load_thresholds> config::thresholds() {
  auto high = p_->get_threshold(knob::high_load_threshold, defaults::high_load_threshold);
  if (!high) return high.err();
  auto medium = p_->get_threshold(knob::medium_load_threshold, defaults::medium_load_threshold);
  if (!medium) return medium.err();
  if (!(*medium < *high)) {
    return error{
        errc::invalid_argument,
        fmt::format("medium load threshold {} ({}) must be below high load threshold {} "
                    "({}); lower {} or raise {}",
                    *medium, source_of(knob::medium_load_threshold), *high,
                    source_of(knob::high_load_threshold), describe(knob::medium_load_threshold).env,
                    describe(knob::high_load_threshold).env)};
  }
  return load_thresholds{*medium, *high};
}

result<std::uint32_t> config::batch_size() {
  return p_->get_uint(knob::batch_size, defaults::batch_size, 1, 10000);
}
result<fs::path> config::metrics_file() {
  return p_->get_path(knob::metrics_file, defaults::metrics_file_name);
}
result<fs::path> config::alert_log_file() {
  return p_->get_path(knob::alert_log_file, defaults::alert_file_name);
}

result<log_level> config::level() {
  const auto& info = describe(knob::log_level);
  auto raw = p_->lookup(knob::log_level);
  if (!raw) return raw.err();
  if (raw->from == raw_value::origin::none) return defaults::level;
  const auto text = string_of(*raw);
  if (!text) return invalid(*raw, info);
  auto parsed = parse_log_level(*text, raw->where);
  if (!parsed) return invalid(*raw, info);
  return *parsed;
}

result<settings> config::all() {
  settings s;
  std::optional<error> failed;
  auto take = [&failed](auto& field, auto got) {
    if (failed) return;
    if (got) {
      field = *got;
    } else {
      failed = got.err();
    }
  };
  take(s.max_inbox_size, max_inbox_size());
  take(s.slot_size, slot_size());
  take(s.critical_reserve, critical_reserve());
  take(s.backpressure_wait, backpressure_wait());
  take(s.backpressure_retries, backpressure_retries());
  take(s.check_interval, check_interval());
  take(s.thresholds, thresholds());
  take(s.batch_size, batch_size());
  take(s.metrics_file, metrics_file());
  take(s.alert_log_file, alert_log_file());
  take(s.level, level());
  if (failed) return *failed;
  return s;
}

result<std::string> config::value_text(knob k) {
  const auto text = [](auto r, auto format) -> result<std::string> {
    if (!r) return r.err();
    return format(*r);
  };
  const auto number = [](auto v) { return std::to_string(v); };
  const auto millis = [](std::chrono::milliseconds v) { return std::to_string(v.count()) + " ms"; };
  const auto path = [](const fs::path& p) { return p.string(); };
  switch (k) {
    case knob::max_inbox_size:
      return text(max_inbox_size(), number);
    case knob::slot_size:
      return text(slot_size(), number);
    case knob::critical_reserve:
      return text(critical_reserve(), number);
    case knob::backpressure_wait:
      return text(backpressure_wait(), millis);
    case knob::backpressure_retries:
      return text(backpressure_retries(), number);
    case knob::check_interval:
      return text(check_interval(), millis);
    case knob::high_load_threshold:
      return text(thresholds(), [](load_thresholds t) { return fmt::format("{}", t.high); });
    case knob::medium_load_threshold:
      return text(thresholds(), [](load_thresholds t) { return fmt::format("{}", t.medium); });
    case knob::batch_size:
      return text(batch_size(), number);
    case knob::metrics_file:
      return text(metrics_file(), path);
    case knob::alert_log_file:
      return text(alert_log_file(), path);
    case knob::log_level:
      return text(level(), [](log_level l) { return std::string(to_string(l)); });
  }
  return std::string{};
}

std::string config::source_of(knob k) {
  auto raw = p_->lookup(k);
  if (!raw) return "unreadable sluice.toml";
  switch (raw->from) {
    case raw_value::origin::flag:
      return raw->where;
    case raw_value::origin::env:
      return "env " + raw->where;
    case raw_value::origin::toml:
      return raw->where;
    case raw_value::origin::none:
      break;
  }
  return "default";
}

}  // namespace sluice::runtime
