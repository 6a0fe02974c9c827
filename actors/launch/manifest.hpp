#pragma once
// A launch manifest (docs/architecture.md section 6): the agents `sluice launch` runs, and how.
//
//   bus = "swarm"                         # unless --bus, --dir, SLUICE_DIR or SLUICE_BUS say
//                                         #   otherwise; neither: "default"
//   [inbox]                               # defaults for every agent's inbox
//   capacity = 1000
//   [monitors]
//   overflow_interval = "1s"              # durations as strings: "250ms", "5s", "2m"
//   prometheus_port = 9464                # serve GET /metrics on 127.0.0.1 (0: off)
//   [[agent]]
//   name = "worker"                       # ^[A-Za-z0-9_-]{1,64}$
//   command = ["./worker", "--fast"]      # relative paths resolve against the manifest's folder
//   replicas = 3                          # -> worker-1, worker-2, worker-3
//   role = "job"                          # launch exits once every job has finished
//   restart = "on-failure"                # never | on-failure | always
//   max_restarts = 5
//   restart_backoff = "200ms"             # doubles per restart, capped at 30 s
//   env = { MODE = "fast" }               # not launch_env_names: launch sets those
//   inbox = { capacity = 2000 }           # overrides [inbox] for this agent
//   [bridge]                              # optional: `sluice bridge` as one more service
//   name = "east"                         # default: the bus name (needed with --dir)
//   listen = "127.0.0.1:7400"             # or connect = "host:port" (not both)
//   secret_file = "bridge.secret"         # optional, mode 0600, relative to the manifest
//   tls_cert = "east.pem"                 # optional, all three or none, relative to the
//   tls_key = "east.key"                  #   manifest; the key mode 0600
//   tls_ca = "ca.pem"
//   restart = "on-failure"                # as for agents, also max_restarts, restart_backoff
//   [[bridge.peer]]                       # more peers to connect to, each its own link
//   connect = "north:7400"
//
// A manifest needs at least one [[agent]] or a [bridge].
// Loading validates everything before anything is spawned: unknown keys, wrong types, bad
// values, duplicate or invalid names and commands that are not executable are errors of the
// form "<file>:<line>: <key>: <problem>".
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inbox/inbox.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

// What launch tells every agent it runs (supervisor.cpp sets each): the bus, the agent's name,
// its restarts so far, the sluice executable. A manifest's env may not set them: launch's would
// win, and the manifest's value would be dropped without a word.
inline constexpr std::array<std::string_view, 5> launch_env_names = {
    "SLUICE_DIR", "SLUICE_BUS", "SLUICE_AGENT", "SLUICE_RESTARTS", "SLUICE_BIN"};

enum class restart_mode { never, on_failure, always };
const char* to_string(restart_mode) noexcept;

// service: runs until launch stops it. job: launch exits once every job has finished.
enum class agent_role { service, job };
const char* to_string(agent_role) noexcept;

struct agent_spec {
  std::string name;                  // replicas already expanded: worker-1, worker-2, ...
  std::vector<std::string> command;  // argv as written in the manifest
  std::filesystem::path executable;  // command[0] resolved (manifest folder or PATH), checked +x
  std::vector<std::pair<std::string, std::string>> env;  // added to the inherited environment
  agent_role role = agent_role::service;
  restart_mode restart = restart_mode::never;
  unsigned max_restarts = 5;
  std::chrono::milliseconds restart_backoff{200};
  inbox::create_options inbox;
  std::size_t line = 0;  // where the [[agent]] table starts, for messages
};

// The [bridge] section: launch supervises `sluice bridge` under the process name "bridge"
// (so no agent may be called that), restarting it per `restart` like an agent.
struct bridge_spec {
  std::string name;                   // empty: the bus name
  std::string listen;                 // HOST:PORT, or empty
  std::string connect;                // HOST:PORT, or empty (never both; one of them, or peers)
  std::vector<std::string> peers;     // HOST:PORT of each [[bridge.peer]], connected to as well
  std::filesystem::path secret_file;  // absolute; empty: no authentication
  std::filesystem::path tls_cert;     // absolute; all three or none: no TLS
  std::filesystem::path tls_key;
  std::filesystem::path tls_ca;
  restart_mode restart = restart_mode::on_failure;
  unsigned max_restarts = 5;
  std::chrono::milliseconds restart_backoff{200};
  std::size_t line = 0;
};

inline constexpr const char* bridge_process_name = "bridge";

struct monitor_spec {
  bool overflow = true;
  std::chrono::milliseconds overflow_interval{1000};
  bool load = true;
  std::chrono::milliseconds load_interval{1000};
  std::uint16_t prometheus_port = 0;  // 0: no HTTP exposition
};

struct manifest {
  std::filesystem::path file;       // as given, for messages
  std::filesystem::path directory;  // agents run here (absolute)
  std::optional<std::string> bus;
  inbox::create_options inbox_defaults;
  monitor_spec monitors;
  std::vector<agent_spec> agents;
  std::optional<bridge_spec> bridge;

  bool has_jobs() const noexcept;
};

inline constexpr std::chrono::milliseconds max_restart_backoff{30'000};
inline constexpr unsigned max_replicas = 1024;

// Reads and validates `file`. Errors use runtime::errc::invalid_argument (bad content) or
// runtime::errc::not_found / runtime::errc::io_error (unreadable file).
runtime::result<manifest> load_manifest(const std::filesystem::path& file);

// Validates `text` as if it had been read from `file`; relative commands resolve against
// `file`'s folder. Exposed so tests need no temporary files for content errors.
runtime::result<manifest> parse_manifest(std::string_view text, const std::filesystem::path& file);

}  // namespace sluice::actors
