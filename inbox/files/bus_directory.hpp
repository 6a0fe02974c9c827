#pragma once
// The bus directory: the one place that decides whether a directory may hold a bus, and that
// creates it. inbox::open / open_or_create, the CLI, the launcher and the bridge all come here,
// so a bus is judged by one rule whoever opens it.
//
// Why the whole path is judged and not only the bus directory: sluice opens files in a bus by
// path again and again (every verb, every inbox, bus.ctl, the metrics files), so whoever can
// rename a directory on the way to the bus can swap the bus for one of theirs between a check
// and an open. A path only trusted users can change makes every later open by path as safe as
// the check. This is ssh's StrictModes rule, with the exception tmux and /tmp rely on: in a
// sticky directory only an entry's owner can rename or delete it, so a world-writable sticky
// directory (/tmp, /dev/shm, /dev/shm/sluice) may lie on the way, if what sits in it is ours.
//
// clang-format off
// |                     | private bus (the default)               | group bus (--group)                                    |
// |---------------------|-----------------------------------------|--------------------------------------------------------|
// | trusted users       | the caller and root                     | also the bus directory's owner, if a member of its group |
// | bus directory       | a real directory (never a symlink) owned by a trusted user; no write for others             |
// |                     | no group write; made 0700               | setgid, group one of the caller's groups, group write   |
// |                     |                                         | allowed; made 02770 in the caller's effective group     |
// |                     |                                         | (a private directory of the caller is accepted too)     |
// | each directory      | owned by a trusted user; writable by group or others only if sticky (group bus: or if it |
// | above it            | belongs to the bus group). A symlink on the way must be owned by a trusted user, and the  |
// |                     | path it points to is judged the same way                                                  |
// | what sluice creates | missing directories above the bus 0700 (group bus 0750); the shared root /dev/shm/sluice  |
// |                     | 01777 like /tmp, so every user can keep buses there                                       |
// clang-format on
//
// Not judged: ACLs and capabilities (a directory opened up by an ACL passes), and the files in
// the bus (their owners are the caller's business: the CLI's ownership rule, sluice.toml's own
// rule in runtime/config.cpp). Anything refused is permission_denied (path_is_symlink for a
// symlinked bus directory) with one line saying what is wrong and how to fix it.
#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "inbox/result.hpp"

namespace sluice::inbox {

// Where buses live when no directory is given; created 01777 (sticky, like /tmp).
inline constexpr const char* shared_bus_root = "/dev/shm/sluice";
// Written into every bus directory sluice makes or uses for writing, so cleanup-system can
// tell a bus from any other directory.
inline constexpr const char* bus_marker_name = ".sluice-bus";

enum class bus_sharing {
  private_bus,  // the caller (and root) only
  group,        // also the members of the bus directory's group (--group)
};

// The sharing an inbox of this mode asks for: group when the group may read or write it
// (0660, --group), private otherwise.
bus_sharing sharing_of_mode(unsigned inbox_mode) noexcept;

// Judges an existing bus directory by the table above. not_found when it (or a directory
// above it) does not exist.
std::optional<error> check_bus_directory(const std::filesystem::path& dir, bus_sharing sharing);

// Creates dir when missing (and the missing directories above it, after judging the existing
// ones, so nothing is made inside a directory that is not trusted), judges it like
// check_bus_directory, and writes the bus marker.
std::optional<error> ensure_bus_directory(const std::filesystem::path& dir, bus_sharing sharing);

// The mode of a file sluice creates in dir: 0660 in a group bus (a setgid, group-writable
// directory: the file inherits the bus group), else 0600.
mode_t bus_file_mode(const std::filesystem::path& dir) noexcept;

}  // namespace sluice::inbox
