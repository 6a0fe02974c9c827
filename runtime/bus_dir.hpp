#pragma once
// Where a bus lives on disk, and what may be done to that directory (docs/architecture.md section
// 2).
//
// Resolution (resolve_bus): --dir or /dev/shm/sluice/<--bus> (a flag beats the environment),
// else $SLUICE_DIR, else /dev/shm/sluice/<$SLUICE_BUS or "default">. Bus names follow the
// agent-name rule ^[A-Za-z0-9_-]{1,64}$ so a name can never climb out of /dev/shm/sluice. Who may
// own a bus directory and the path to it, and how it is created, is decided in one place:
// inbox/bus_directory.hpp.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "inbox/files/bus_directory.hpp"
#include "runtime/result.hpp"

namespace sluice::runtime {

inline constexpr const char* default_bus_root = inbox::shared_bus_root;
inline constexpr const char* default_bus_name = "default";
inline constexpr const char* bus_marker_name = inbox::bus_marker_name;

// Values given on the command line; empty means "not given".
struct bus_flags {
  std::string dir;  // --dir
  std::string bus;  // --bus
};

struct bus_location {
  std::filesystem::path dir;  // absolute or as given by --dir / SLUICE_DIR
  std::string bus;            // bus name; empty when the directory was given explicitly
  const char* source;         // "--dir", "SLUICE_DIR", "--bus", "SLUICE_BUS" or "default"
};

// --dir, else --bus, else SLUICE_DIR, else SLUICE_BUS, else "default": a flag beats the
// environment. Pure: reads the environment, touches no file. Fails with invalid_name for a
// bad bus name, invalid_argument for an empty SLUICE_DIR or both flags given.
result<bus_location> resolve_bus(const bus_flags& flags);

// inbox::ensure_bus_directory: creates dir when missing (0700, or 02770 in the caller's group
// for a group bus; missing parents 0700 / 0750, the shared root /dev/shm/sluice 01777), refuses
// a directory or a path to it that someone else could change (permission_denied, exit 77, one
// line saying what is wrong and how to fix it), a symlink at dir (path_is_symlink), and writes
// the bus marker.
status ensure_bus_dir(const std::filesystem::path& dir,
                      inbox::bus_sharing sharing = inbox::bus_sharing::private_bus);

// For verbs that only read: inbox::check_bus_directory, the same judgement without creating
// anything. not_found when dir does not exist (callers that treat "no bus" as "empty bus"
// check for that code).
status check_bus_dir(const std::filesystem::path& dir,
                     inbox::bus_sharing sharing = inbox::bus_sharing::private_bus);

// <dir>/<agent>.inbox (agent is not validated here; inbox::open does that).
std::filesystem::path inbox_file(const std::filesystem::path& dir, std::string_view agent);

// Agent names of every valid `<agent>.inbox` regular file in dir, sorted by name. Files
// whose stem is not a valid agent name are skipped. Missing dir -> empty list.
std::vector<std::string> list_agents(const std::filesystem::path& dir);

// true when dir is a real directory that holds the bus marker, or that holds at least one
// sluice file and nothing but sluice files (inboxes, bus.ctl, metrics/alerts logs and their
// rotations and lock files, metrics.prom and its temp files, bridge-<peer>.json link status
// files and their temp files, sluice.toml).
bool is_sluice_bus(const std::filesystem::path& dir);

// An OS error (errno err) while doing `what` to a file the bus shares through memory (bus.ctl,
// policy.ctl), as one line with the code inbox::errc_of_errno gives it. `when_missing` follows
// "<file> does not exist" (what would create it).
error bus_file_error(const std::filesystem::path& file, const char* what, int err,
                     std::string_view when_missing = {});

// Removes a bus: refuses (errc::invalid_argument, "not a sluice bus") unless
// is_sluice_bus(dir). Deletes only sluice files, never recursively; keeps sluice.toml (the
// user's configuration) and any file sluice did not make, and then keeps the directory
// too. A missing dir is success.
status remove_bus(const std::filesystem::path& dir);

}  // namespace sluice::runtime
