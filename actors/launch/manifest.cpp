#include "actors/launch/manifest.hpp"

#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <set>
#include <sstream>

#include "backpressure/address.hpp"
#include "inbox/files/read_file.hpp"
#include "runtime/config.hpp"
#include "runtime/duration.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/toml_words.hpp"

namespace sluice::actors {

const char* to_string(restart_mode m) noexcept {
  switch (m) {
    case restart_mode::never:
      return "never";
    case restart_mode::on_failure:
      return "on-failure";
    case restart_mode::always:
      return "always";
  }
  return "?";
}

const char* to_string(agent_role r) noexcept {
  return r == agent_role::job ? "job" : "service";
}

bool manifest::has_jobs() const noexcept {
  return std::any_of(agents.begin(), agents.end(),
                     [](const agent_spec& a) { return a.role == agent_role::job; });
}

namespace {

// Thrown inside the parser only; load/parse turn it into an inbox::error.
struct manifest_problem {
  std::string message;
};

class checker {
 public:
  [[noreturn]] void fail(const toml::source_region& where, std::string_view key,
                         const std::string& problem) const {
    throw manifest_problem{runtime::toml_place(where) + ": " + std::string(key) + ": " + problem};
  }

  // Every key of `tbl` must be one of `known`: a typo must not be silently ignored.
  void only_known(const toml::table& tbl, std::string_view prefix,
                  std::initializer_list<std::string_view> known) const {
    for (auto&& [k, v] : tbl) {
      if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
      fail(k.source(), qualified(prefix, k.str()), runtime::unknown_key_problem(known));
    }
  }

  static std::string qualified(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
  }

  std::string get_string(const toml::node& n, const std::string& key) const {
    if (auto s = n.value<std::string>(); s && n.is_string()) return *s;
    fail(n.source(), key, std::string("must be a string, not ") + runtime::toml_type_name(n));
  }

  std::int64_t get_int(const toml::node& n, const std::string& key, std::int64_t lo,
                       std::int64_t hi) const {
    if (!n.is_integer())
      fail(n.source(), key, std::string("must be an integer, not ") + runtime::toml_type_name(n));
    const auto v = *n.value<std::int64_t>();
    if (v < lo || v > hi)
      fail(n.source(), key,
           "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", not " +
               std::to_string(v));
    return v;
  }

  bool get_bool(const toml::node& n, const std::string& key) const {
    if (!n.is_boolean())
      fail(n.source(), key,
           std::string("must be true or false, not ") + runtime::toml_type_name(n));
    return *n.value<bool>();
  }

  std::chrono::milliseconds get_duration(const toml::node& n, const std::string& key) const {
    if (!n.is_string())
      fail(n.source(), key,
           std::string("must be a duration string such as \"5s\", not ") +
               runtime::toml_type_name(n));
    auto d = runtime::parse_duration(*n.value<std::string>(), key);
    if (!d) fail(n.source(), key, d.err().message);
    return std::chrono::duration_cast<std::chrono::milliseconds>(d.value());
  }

  const toml::table& get_table(const toml::node& n, const std::string& key) const {
    if (auto t = n.as_table()) return *t;
    fail(n.source(), key, std::string("must be a table, not ") + runtime::toml_type_name(n));
  }
};

void read_inbox_options(const checker& c, const toml::table& t, const std::string& prefix,
                        inbox::create_options& out) {
  c.only_known(t, prefix, {"capacity", "critical_reserve", "slot_size"});
  if (auto n = t.get("capacity"))
    out.capacity = static_cast<std::uint32_t>(
        c.get_int(*n, prefix + ".capacity", 1, runtime::limits::max_inbox_size));
  if (auto n = t.get("critical_reserve"))
    out.critical_reserve = static_cast<std::uint32_t>(
        c.get_int(*n, prefix + ".critical_reserve", 0, runtime::limits::max_critical_reserve));
  if (auto n = t.get("slot_size"))
    out.slot_size = static_cast<std::uint32_t>(c.get_int(
        *n, prefix + ".slot_size", runtime::limits::min_slot_size, runtime::limits::max_slot_size));
}

void read_monitors(const checker& c, const toml::table& t, monitor_spec& out) {
  c.only_known(t, "monitors",
               {"overflow", "overflow_interval", "load", "load_interval", "prometheus_port"});
  if (auto n = t.get("overflow")) out.overflow = c.get_bool(*n, "monitors.overflow");
  if (auto n = t.get("overflow_interval")) {
    out.overflow_interval = c.get_duration(*n, "monitors.overflow_interval");
    if (out.overflow_interval < std::chrono::milliseconds{100})
      c.fail(n->source(), "monitors.overflow_interval", "must be at least 100ms");
  }
  if (auto n = t.get("load")) out.load = c.get_bool(*n, "monitors.load");
  if (auto n = t.get("load_interval")) {
    out.load_interval = c.get_duration(*n, "monitors.load_interval");
    if (out.load_interval < std::chrono::milliseconds{100})
      c.fail(n->source(), "monitors.load_interval", "must be at least 100ms");
  }
  if (auto n = t.get("prometheus_port"))
    out.prometheus_port =
        static_cast<std::uint16_t>(c.get_int(*n, "monitors.prometheus_port", 0, 65535));
}

// Finds command[0] the way a shell would: a name with a slash is a path (relative to the
// manifest's folder, where agents run), anything else is looked up in PATH.
std::optional<std::filesystem::path> resolve_executable(const std::string& cmd,
                                                        const std::filesystem::path& dir) {
  auto usable = [](const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (cmd.find('/') != std::string::npos) {
    std::filesystem::path p = cmd;
    if (p.is_relative()) p = dir / p;
    if (usable(p)) return p.lexically_normal();
    return std::nullopt;
  }
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  while (!path.empty()) {
    const auto colon = path.find(':');
    const std::string_view entry = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view{} : path.substr(colon + 1);
    const std::filesystem::path p =
        std::filesystem::path(entry.empty() ? "." : std::string(entry)) / cmd;
    if (usable(p)) return p;
  }
  return std::nullopt;
}

// restart, max_restarts, restart_backoff: the same keys for agents and the bridge.
void read_restart(const checker& c, const toml::table& t, const std::string& key,
                  restart_mode& restart, unsigned& max_restarts,
                  std::chrono::milliseconds& backoff) {
  if (auto n = t.get("restart")) {
    const auto r = c.get_string(*n, key + ".restart");
    if (r == "never")
      restart = restart_mode::never;
    else if (r == "on-failure")
      restart = restart_mode::on_failure;
    else if (r == "always")
      restart = restart_mode::always;
    else
      c.fail(n->source(), key + ".restart", "'" + r + "' is not one of: never, on-failure, always");
  }
  if (auto n = t.get("max_restarts"))
    max_restarts = static_cast<unsigned>(c.get_int(*n, key + ".max_restarts", 0, 1'000'000));
  if (auto n = t.get("restart_backoff")) {
    backoff = c.get_duration(*n, key + ".restart_backoff");
    if (backoff > max_restart_backoff)
      c.fail(n->source(), key + ".restart_backoff", "must be at most 30s");
  }
}

// HOST:PORT exactly as `sluice bridge` takes it; port 0 (any free port) only for listen.
void check_endpoint(const checker& c, const toml::node& n, const std::string& key,
                    const std::string& text, bool allow_zero) {
  if (auto parsed = runtime::parse_endpoint(text, allow_zero); !parsed)
    c.fail(n.source(), key, parsed.err().message);
}

// A file the bridge reads, relative to the manifest's folder; `secret` ones must be private.
std::filesystem::path read_file_key(const checker& c, const toml::node& n, const std::string& key,
                                    const manifest& m, bool secret) {
  std::filesystem::path f = c.get_string(n, key);
  if (f.is_relative()) f = m.directory / f;
  struct stat st {};
  if (::stat(f.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(f.c_str(), R_OK) != 0)
    c.fail(n.source(), key, f.string() + " is not a readable file");
  if (secret && (st.st_mode & 0077) != 0)
    c.fail(n.source(), key, f.string() + ": other users may read it; chmod 600 " + f.string());
  return f.lexically_normal();
}

void read_bridge(const checker& c, const toml::table& t, manifest& m) {
  c.only_known(t, "bridge",
               {"name", "listen", "connect", "peer", "secret_file", "tls_cert", "tls_key", "tls_ca",
                "restart", "max_restarts", "restart_backoff"});
  bridge_spec b;
  b.line = t.source().begin.line;
  if (auto n = t.get("name")) {
    b.name = c.get_string(*n, "bridge.name");
    if (!backpressure::is_valid_peer_name(b.name))
      c.fail(n->source(), "bridge.name",
             "'" + b.name + "' is not a valid bridge name (1-" +
                 std::to_string(backpressure::max_peer_name) + " of A-Z a-z 0-9 _ -)");
  }
  if (auto n = t.get("peer")) {
    const toml::array* list = n->as_array();
    if (!list || !list->is_array_of_tables())
      c.fail(n->source(), "bridge.peer", "must be an array of tables ([[bridge.peer]])");
    std::size_t index = 0;
    for (auto&& entry : *list) {
      const auto& p = *entry.as_table();
      const std::string where = "bridge.peer[" + std::to_string(index++) + "]";
      c.only_known(p, where, {"connect"});
      const toml::node* to = p.get("connect");
      if (to == nullptr) c.fail(p.source(), where, "needs connect = \"HOST:PORT\"");
      b.peers.push_back(c.get_string(*to, where + ".connect"));
      check_endpoint(c, *to, where + ".connect", b.peers.back(), false);
    }
  }
  const toml::node* listen = t.get("listen");
  const toml::node* connect = t.get("connect");
  // As on the command line: listen, connect, or both (more peers: [[bridge.peer]] tables).
  if (listen == nullptr && connect == nullptr && b.peers.empty())
    c.fail(t.source(), "bridge",
           "give listen = \"HOST:PORT\", connect = \"HOST:PORT\" or both (more peers to "
           "connect to: [[bridge.peer]] tables)");
  if (listen) {
    b.listen = c.get_string(*listen, "bridge.listen");
    check_endpoint(c, *listen, "bridge.listen", b.listen, true);
  }
  if (connect) {
    b.connect = c.get_string(*connect, "bridge.connect");
    check_endpoint(c, *connect, "bridge.connect", b.connect, false);
  }
  if (auto n = t.get("secret_file"))
    b.secret_file = read_file_key(c, *n, "bridge.secret_file", m, true);
  const toml::node* cert = t.get("tls_cert");
  const toml::node* key = t.get("tls_key");
  const toml::node* ca = t.get("tls_ca");
  if ((cert || key || ca) && !(cert && key && ca))
    c.fail(t.source(), "bridge", "TLS needs all three of tls_cert, tls_key and tls_ca");
  if (cert) {
    b.tls_cert = read_file_key(c, *cert, "bridge.tls_cert", m, false);
    b.tls_key = read_file_key(c, *key, "bridge.tls_key", m, true);
    b.tls_ca = read_file_key(c, *ca, "bridge.tls_ca", m, false);
  }
  read_restart(c, t, "bridge", b.restart, b.max_restarts, b.restart_backoff);
  m.bridge = std::move(b);
}

void read_agent(const checker& c, const toml::table& t, std::size_t index, const manifest& m,
                std::vector<agent_spec>& out) {
  const std::string where = "agent[" + std::to_string(index) + "]";
  c.only_known(t, where,
               {"name", "command", "replicas", "role", "env", "restart", "max_restarts",
                "restart_backoff", "inbox"});
  agent_spec a;
  a.line = t.source().begin.line;
  a.inbox = m.inbox_defaults;

  const toml::node* name = t.get("name");
  if (!name) c.fail(t.source(), where + ".name", "missing (every [[agent]] needs a name)");
  a.name = c.get_string(*name, where + ".name");
  if (!inbox::is_valid_agent_name(a.name))
    c.fail(name->source(), where + ".name",
           "'" + a.name + "' is not a valid agent name (1-64 of A-Z a-z 0-9 _ -)");
  const std::string key = "agent '" + a.name + "'";

  const toml::node* command = t.get("command");
  if (!command)
    c.fail(t.source(), key + ".command", "missing (e.g. command = [\"./worker\", \"--flag\"])");
  const toml::array* argv = command->as_array();
  if (!argv) c.fail(command->source(), key + ".command", "must be an array of strings (argv)");
  if (argv->empty()) c.fail(command->source(), key + ".command", "must not be empty");
  for (auto&& arg : *argv) a.command.push_back(c.get_string(arg, key + ".command"));
  auto exe = resolve_executable(a.command.front(), m.directory);
  if (!exe)
    c.fail(command->source(), key + ".command",
           "'" + a.command.front() + "' is not an executable file" +
               (a.command.front().find('/') != std::string::npos
                    ? " (relative paths start at " + m.directory.string() + "; is it built and +x?)"
                    : " found in PATH"));
  a.executable = *exe;

  if (auto n = t.get("role")) {
    const auto role = c.get_string(*n, key + ".role");
    if (role == "job")
      a.role = agent_role::job;
    else if (role == "service")
      a.role = agent_role::service;
    else
      c.fail(n->source(), key + ".role", "'" + role + "' is not one of: service, job");
  }
  read_restart(c, t, key, a.restart, a.max_restarts, a.restart_backoff);
  if (auto n = t.get("env")) {
    const auto& env = c.get_table(*n, key + ".env");
    for (auto&& [k, v] : env) {
      const std::string var(k.str());
      if (var.empty() || var.find('=') != std::string::npos)
        c.fail(k.source(), key + ".env", "'" + var + "' is not a valid variable name");
      if (std::find(launch_env_names.begin(), launch_env_names.end(), var) !=
          launch_env_names.end())
        c.fail(k.source(), key + ".env." + var,
               "launch sets it for every agent (the bus comes from --bus, --dir, the "
               "environment or the manifest's bus; the name from [[agent]] name)");
      a.env.emplace_back(var, c.get_string(v, key + ".env." + var));
    }
  }
  if (auto n = t.get("inbox"))
    read_inbox_options(c, c.get_table(*n, key + ".inbox"), key + ".inbox", a.inbox);

  std::int64_t replicas = 1;
  const toml::node* replicas_node = t.get("replicas");
  if (replicas_node) replicas = c.get_int(*replicas_node, key + ".replicas", 1, max_replicas);
  if (!replicas_node) {
    out.push_back(std::move(a));
    return;
  }
  for (std::int64_t i = 1; i <= replicas; ++i) {
    agent_spec r = a;
    r.name = a.name + "-" + std::to_string(i);
    if (!inbox::is_valid_agent_name(r.name))
      c.fail(replicas_node->source(), key + ".replicas",
             "replica name '" + r.name + "' is longer than 64 characters");
    out.push_back(std::move(r));
  }
}

manifest parse(std::string_view text, const std::filesystem::path& file) {
  const checker c{};
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << file.string() << ':' << e.source().begin.line << ": " << e.description();
    throw manifest_problem{os.str()};
  }
  manifest m;
  m.file = file;
  std::error_code ec;
  m.directory = std::filesystem::absolute(file, ec).parent_path();

  c.only_known(root, "", {"bus", "inbox", "monitors", "agent", "bridge"});
  if (auto n = root.get("bus")) {
    m.bus = c.get_string(*n, "bus");
    if (!inbox::is_valid_agent_name(*m.bus))
      c.fail(n->source(), "bus",
             "'" + *m.bus + "' is not a valid bus name (1-64 of A-Z a-z 0-9 _ -)");
  }
  if (auto n = root.get("inbox"))
    read_inbox_options(c, c.get_table(*n, "inbox"), "inbox", m.inbox_defaults);
  if (auto n = root.get("monitors")) read_monitors(c, c.get_table(*n, "monitors"), m.monitors);

  if (auto n = root.get("bridge")) read_bridge(c, c.get_table(*n, "bridge"), m);

  const toml::node* agents = root.get("agent");
  if (!agents && !m.bridge)
    throw manifest_problem{file.string() +
                           ":1: agent: no [[agent]] tables and no [bridge]; nothing to launch"};
  if (agents) {
    const toml::array* list = agents->as_array();
    if (!list || !list->is_array_of_tables())
      c.fail(agents->source(), "agent", "must be an array of tables ([[agent]])");
    std::size_t index = 0;
    for (auto&& entry : *list) read_agent(c, *entry.as_table(), index++, m, m.agents);
  }

  std::set<std::string> seen;
  for (const auto& a : m.agents) {
    if (m.bridge && a.name == bridge_process_name)
      throw manifest_problem{file.string() + ':' + std::to_string(a.line) + ": agent '" + a.name +
                             "'.name: taken by the [bridge] section's process; rename the agent"};
    if (seen.insert(a.name).second) continue;
    throw manifest_problem{
        file.string() + ':' + std::to_string(a.line) + ": agent '" + a.name +
        "'.name: duplicate agent name (names, after replica expansion, must be unique)"};
  }
  return m;
}

}  // namespace

runtime::result<manifest> parse_manifest(std::string_view text, const std::filesystem::path& file) {
  try {
    return parse(text, file);
  } catch (const manifest_problem& p) {
    return runtime::error{runtime::errc::invalid_argument, p.message};
  }
}

runtime::result<manifest> load_manifest(const std::filesystem::path& file) {
  const auto read = inbox::read_file(file, 1u << 20);
  if (read.error != 0) {
    const int err = read.error;
    return runtime::error{
        err == ENOENT ? runtime::errc::not_found : runtime::errc::io_error,
        "cannot read manifest " + file.string() + ": " +
            (err == EFBIG ? std::string("larger than 1 MiB") : std::string(std::strerror(err)))};
  }
  return parse_manifest(read.text, file);
}

}  // namespace sluice::actors
