#include "inbox/files/bus_directory.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sluice::inbox {
namespace {

namespace fs = std::filesystem;

constexpr int max_symlinks = 40;  // as the kernel allows in one lookup

error refuse(std::string text) {
  return error{errc::permission_denied, std::move(text)};
}

error not_found(const fs::path& dir) {
  return error{errc::not_found,
               "bus directory " + dir.string() +
                   " does not exist; create it with sluice init-system or check SLUICE_DIR/--bus"};
}

error os_error(const fs::path& p, const char* what, int err) {
  const std::string text =
      "cannot " + std::string(what) + " " + p.string() + ": " + std::strerror(err);
  switch (const errc code = errc_of_errno(err)) {
    case errc::permission_denied:
      return refuse(text + "; choose a writable place with --dir or SLUICE_DIR");
    case errc::no_space:
      return error{code, text + "; free space there or choose another place with --dir"};
    case errc::path_is_symlink:
      return error{code, text + "; sluice never follows symlinks there"};
    default:
      return error{code, text};
  }
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string user_text(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buf(4096);
  if (::getpwuid_r(uid, &entry, buf.data(), buf.size(), &found) == 0 && found != nullptr)
    text += " (" + std::string(found->pw_name) + ")";
  return text;
}

std::string group_text(gid_t gid) {
  group entry{};
  group* found = nullptr;
  // A group entry lists its members, so it can be large: NSS says ERANGE until it fits.
  std::vector<char> buf(4096);
  int rc = 0;
  while ((rc = ::getgrgid_r(gid, &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20))
    buf.resize(buf.size() * 4);
  if (rc == 0 && found != nullptr) return found->gr_name;
  return "gid " + std::to_string(gid);
}

// Whether a user other than the caller belongs to a group (primary or supplementary), as the
// system's user database says.
bool user_in_group(uid_t uid, gid_t gid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buf(4096);
  int rc = 0;
  while ((rc = ::getpwuid_r(uid, &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20))
    buf.resize(buf.size() * 4);
  if (rc != 0 || found == nullptr) return false;
  if (found->pw_gid == gid) return true;
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  while (::getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) < 0) {
    if (count <= static_cast<int>(groups.size())) return false;
    groups.resize(static_cast<std::size_t>(count));
  }
  groups.resize(static_cast<std::size_t>(count));
  return std::find(groups.begin(), groups.end(), gid) != groups.end();
}

struct caller_identity {
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  std::vector<gid_t> groups;

  caller_identity() {
    const int n = ::getgroups(0, nullptr);
    if (n <= 0) return;
    groups.resize(static_cast<std::size_t>(n));
    const int got = ::getgroups(n, groups.data());
    groups.resize(static_cast<std::size_t>(std::max(got, 0)));
  }
  bool member_of(gid_t g) const {
    return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end();
  }
};

// Who may change a bus, and therefore who may own or write the directories on the way to it.
struct trust {
  std::vector<uid_t> users;
  std::optional<gid_t> group;  // group bus: the bus group may write on the way too
  bool user(uid_t u) const { return std::find(users.begin(), users.end(), u) != users.end(); }
};

// Paths are walked as plain strings: every verb walks its bus path at start-up, and
// std::filesystem::path builds an object per component.
std::string joined(const std::string& dir, std::string_view name) {
  std::string out = dir;
  if (out.back() != '/') out += '/';
  out += name;
  return out;
}

// The parent of a path without symlinks, which is where the kernel's ".." goes.
std::string parent_of(const std::string& real) {
  const auto slash = real.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : real.substr(0, slash);
}

// One directory or symlink that a lookup passes through.
struct step {
  std::string path;
  struct stat st;
};

// A lookup of a path the way the kernel does it, symlinks followed.
struct lookup {
  std::vector<step> steps;
  std::string real = "/";            // where the existing part of the path leads; no symlinks
  std::vector<std::string> missing;  // the components after `real` that do not exist
};

// Walks `path` component by component from look.real; 0 or the errno that stopped it (a
// missing component is not an error: the rest goes to look.missing).
int walk(std::string_view path, lookup& look, int& links_left) {
  std::size_t at = 0;
  while (at < path.size()) {
    if (path[at] == '/') {
      ++at;
      continue;
    }
    const auto end = std::min(path.find('/', at), path.size());
    const std::string_view part = path.substr(at, end - at);
    at = end;
    if (!look.missing.empty()) {
      look.missing.emplace_back(part);
      continue;
    }
    if (part == ".") continue;
    if (part == "..") {
      look.real = parent_of(look.real);
      continue;
    }
    std::string next = joined(look.real, part);
    struct stat st {};
    if (::lstat(next.c_str(), &st) != 0) {
      if (errno != ENOENT) return errno;
      look.missing.emplace_back(part);
      continue;
    }
    look.steps.push_back(step{next, st});
    if (S_ISLNK(st.st_mode)) {
      if (--links_left < 0) return ELOOP;
      char target[PATH_MAX];
      const ssize_t n = ::readlink(next.c_str(), target, sizeof target);
      if (n < 0) return errno;
      if (static_cast<std::size_t>(n) == sizeof target) return ENAMETOOLONG;
      if (target[0] == '/') look.real = "/";
      if (const int err =
              walk(std::string_view(target, static_cast<std::size_t>(n)), look, links_left))
        return err;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) return ENOTDIR;
    look.real = std::move(next);
  }
  return 0;
}

// The directory a bus path names, split into the path above it and its own name.
struct bus_path {
  std::string parent;
  std::string name;
};

std::optional<error> split(const fs::path& dir, bus_path& out) {
  std::string abs = dir.native();
  if (abs.empty() || abs.front() != '/') {
    std::error_code ec;
    abs = fs::absolute(dir, ec).native();
    if (ec) return os_error(dir, "resolve", ec.value());
  }
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  const auto slash = abs.rfind('/');
  out.name = abs.substr(slash + 1);
  out.parent = slash == 0 ? "/" : abs.substr(0, slash);
  if (out.name.empty() || out.name == "." || out.name == "..") {
    return error{errc::invalid_argument,
                 "bus directory " + dir.string() +
                     " must end in a directory name, not /, . or ..; name it (--dir \"$PWD\")"};
  }
  return std::nullopt;
}

std::optional<error> look_up(const fs::path& dir, std::string_view path, lookup& look) {
  struct stat root {};
  if (::lstat("/", &root) != 0) return os_error("/", "inspect", errno);
  look.steps.push_back(step{"/", root});
  int links_left = max_symlinks;
  if (const int err = walk(path, look, links_left)) {
    if (err == EACCES) {
      return refuse("cannot reach bus directory " + dir.string() +
                    ": permission denied on the way; check the modes of the directories above "
                    "it, or choose another with --dir");
    }
    if (err == ELOOP) {
      return error{errc::path_is_symlink, "cannot reach bus directory " + dir.string() +
                                              ": more than 40 symlinks on the way (a loop?); "
                                              "give the real path with --dir"};
    }
    return os_error(dir, "look up bus directory", err);
  }
  return std::nullopt;
}

// A directory or symlink above a bus directory: only trusted users may be able to change it.
std::optional<error> judge_step(const fs::path& dir, const step& s, const trust& t) {
  const auto& st = s.st;
  if (!t.user(st.st_uid)) {
    return refuse(s.path + ", above bus directory " + dir.string() + ", belongs to " +
                  user_text(st.st_uid) + ", not to you (" + user_text(::geteuid()) +
                  ") or root: its owner could swap the bus for theirs; keep the bus under a "
                  "path only you and root control (--dir), or remove it if you did not make it");
  }
  if (S_ISLNK(st.st_mode)) return std::nullopt;  // its target's path is judged on its own
  const bool sticky = (st.st_mode & S_ISVTX) != 0;
  if ((st.st_mode & S_IWOTH) != 0 && !sticky) {
    return refuse(s.path + ", above bus directory " + dir.string() +
                  ", is writable by every user and not sticky (mode " + mode_text(st.st_mode) +
                  "): anyone could swap the bus for theirs; chmod o-w (or +t) " + s.path +
                  ", or choose another place with --dir");
  }
  if ((st.st_mode & S_IWGRP) != 0 && !sticky && !(t.group && *t.group == st.st_gid)) {
    return refuse(s.path + ", above bus directory " + dir.string() + ", is writable by group " +
                  group_text(st.st_gid) + " and not sticky (mode " + mode_text(st.st_mode) +
                  "): any member could swap the bus for theirs; chmod g-w "
                  "(or +t) " +
                  s.path + ", or choose another place with --dir");
  }
  return std::nullopt;
}

std::optional<error> judge_path(const fs::path& dir, const std::vector<step>& steps,
                                const trust& t) {
  for (const auto& s : steps) {
    if (auto e = judge_step(dir, s, t)) return e;
  }
  return std::nullopt;
}

std::optional<error> not_owned(const fs::path& dir, const struct stat& st,
                               const caller_identity& me) {
  return refuse("bus directory " + dir.string() + " belongs to " + user_text(st.st_uid) +
                ", not to you (" + user_text(me.uid) +
                ") or root: its owner could read, replace or delete your inboxes; remove it if "
                "you did not make it (rm -r " +
                dir.string() + "), or choose another bus (--bus, --dir)");
}

// The bus directory itself. Fills `t` with who is trusted for this bus.
std::optional<error> judge_bus(const fs::path& dir, const struct stat& st, bus_sharing sharing,
                               const caller_identity& me, trust& t) {
  if (S_ISLNK(st.st_mode)) {
    return error{errc::path_is_symlink,
                 "bus directory " + dir.string() +
                     " is a symlink; sluice never follows symlinks, remove it or use a real "
                     "directory"};
  }
  if (!S_ISDIR(st.st_mode)) {
    return error{errc::invalid_argument, "bus directory " + dir.string() +
                                             " exists but is not a directory; choose another "
                                             "path with --dir"};
  }
  t.users = {me.uid, 0};
  const bool ours = st.st_uid == me.uid || st.st_uid == 0;
  const mode_t mode = st.st_mode;
  const bool group_writable = (mode & S_IWGRP) != 0;
  const bool group_bus = group_writable && (mode & S_ISGID) != 0 && (mode & S_IWOTH) == 0;
  if (sharing == bus_sharing::private_bus || !group_writable) {
    if (!ours && group_bus && me.member_of(st.st_gid)) {
      return refuse("bus directory " + dir.string() + " is a group bus of " + user_text(st.st_uid) +
                    " and group " + group_text(st.st_gid) +
                    ": pass --group to use it, or use a bus of your own (--bus, --dir)");
    }
    if (!ours) return not_owned(dir, st, me);
    if ((mode & S_IWOTH) != 0) {
      return refuse("bus directory " + dir.string() + " is writable by every user (mode " +
                    mode_text(mode) +
                    "): anyone could plant files in it or delete your inboxes; chmod o-w " +
                    dir.string() + ", or remove it if you did not make it");
    }
    if (!group_writable) return std::nullopt;
    if (group_bus) {
      return refuse("bus directory " + dir.string() + " is a group bus (mode " + mode_text(mode) +
                    ", group " + group_text(st.st_gid) +
                    "): pass --group to use it, or make it private with chmod g-w " + dir.string());
    }
    return refuse("bus directory " + dir.string() + " is writable by group " +
                  group_text(st.st_gid) + " (mode " + mode_text(mode) +
                  "): make it private (chmod g-w " + dir.string() +
                  ") or a group bus (chmod 2770 and pass --group)");
  }
  // A group bus: the group is trusted, so the owner must belong to it. A directory that is
  // not the caller's and fails any rule is reported by its owner first: likely a squatter's.
  if ((mode & S_IWOTH) != 0) {
    if (!ours) return not_owned(dir, st, me);
    return refuse("bus directory " + dir.string() + " is writable by every user (mode " +
                  mode_text(mode) + "): a group bus is 2770; chmod o-w " + dir.string() +
                  ", or remove it if you did not make it");
  }
  if (!me.member_of(st.st_gid)) {
    if (!ours) return not_owned(dir, st, me);
    return refuse("bus directory " + dir.string() + " is shared with group " +
                  group_text(st.st_gid) +
                  ", and you are not a member: ask to be added, or use a bus of your own "
                  "(--bus, --dir)");
  }
  if (!ours && !user_in_group(st.st_uid, st.st_gid)) {
    return refuse("bus directory " + dir.string() + " belongs to " + user_text(st.st_uid) +
                  ", who is not a member of its group " + group_text(st.st_gid) +
                  ": remove it if you did not make it (rm -r " + dir.string() + ")");
  }
  if ((mode & S_ISGID) == 0) {
    return refuse("bus directory " + dir.string() + " is group-writable but not setgid (mode " +
                  mode_text(mode) + "): files made there would not belong to group " +
                  group_text(st.st_gid) + "; chmod g+s " + dir.string());
  }
  if (!ours) t.users.push_back(st.st_uid);
  t.group = st.st_gid;
  return std::nullopt;
}

// Creates one missing directory above the bus and judges what is there afterwards (another
// process may have made it first).
std::optional<error> make_parent(const fs::path& dir, const std::string& p, mode_t mode,
                                 const trust& t) {
  if (::mkdir(p.c_str(), 0700) == 0) {
    if (::chmod(p.c_str(), mode) != 0) return os_error(p, "set the mode of", errno);
  } else if (errno != EEXIST) {
    return os_error(p, "create", errno);
  }
  step made{p, {}};
  if (::lstat(p.c_str(), &made.st) != 0) return os_error(p, "inspect", errno);
  if (S_ISLNK(made.st.st_mode)) return os_error(p, "create", ELOOP);
  if (!S_ISDIR(made.st.st_mode)) return os_error(p, "create", ENOTDIR);
  return judge_step(dir, made, t);
}

std::optional<error> make_bus(const std::string& real, bus_sharing sharing,
                              const caller_identity& me) {
  if (::mkdir(real.c_str(), 0700) != 0) {
    if (errno == EEXIST) return std::nullopt;  // judged by the caller like any existing one
    return os_error(real, "create bus directory", errno);
  }
  // Set explicitly, so neither the umask nor a setgid parent decides.
  if (sharing == bus_sharing::group) {
    if (::chown(real.c_str(), static_cast<uid_t>(-1), me.gid) != 0)
      return os_error(real, "set the group of", errno);
    if (::chmod(real.c_str(), 02770) != 0) return os_error(real, "set the mode of", errno);
  } else if (::chmod(real.c_str(), 0700) != 0) {
    return os_error(real, "set the mode of", errno);
  }
  return std::nullopt;
}

std::optional<error> write_marker(const fs::path& dir, const std::string& real) {
  const std::string marker = joined(real, bus_marker_name);
  struct stat st {};
  if (::lstat(marker.c_str(), &st) == 0) return std::nullopt;
  const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return std::nullopt;
    return os_error(dir, "write to bus directory", errno);
  }
  ::close(fd);
  return std::nullopt;
}

}  // namespace

bus_sharing sharing_of_mode(unsigned inbox_mode) noexcept {
  return (inbox_mode & 0060u) != 0 ? bus_sharing::group : bus_sharing::private_bus;
}

std::optional<error> check_bus_directory(const fs::path& dir, bus_sharing sharing) {
  bus_path where;
  if (auto e = split(dir, where)) return e;
  lookup look;
  if (auto e = look_up(dir, where.parent, look)) return e;
  if (!look.missing.empty()) return not_found(dir);
  const std::string real = joined(look.real, where.name);
  struct stat st {};
  if (::lstat(real.c_str(), &st) != 0) {
    if (errno == ENOENT) return not_found(dir);
    return os_error(dir, "inspect bus directory", errno);
  }
  const caller_identity me;
  trust t;
  if (auto e = judge_bus(dir, st, sharing, me, t)) return e;
  return judge_path(dir, look.steps, t);
}

std::optional<error> ensure_bus_directory(const fs::path& dir, bus_sharing sharing) {
  bus_path where;
  if (auto e = split(dir, where)) return e;
  lookup look;
  if (auto e = look_up(dir, where.parent, look)) return e;
  const caller_identity me;
  std::string real = joined(look.real, where.name);
  bool exists = false;
  if (look.missing.empty()) {
    struct stat st {};
    exists = ::lstat(real.c_str(), &st) == 0;
    if (!exists && errno != ENOENT) return os_error(dir, "inspect bus directory", errno);
  }
  if (!exists) {
    // Nothing is made until everything on the way is known to be trusted.
    trust t{{me.uid, 0}, {}};
    if (sharing == bus_sharing::group) t.group = me.gid;
    if (auto e = judge_path(dir, look.steps, t)) return e;
    std::string at = look.real;
    for (const auto& part : look.missing) {
      if (part == ".") continue;
      if (part == "..") {
        return error{errc::invalid_argument,
                     "bus directory " + dir.string() +
                         " climbs out (..) of a directory that does not exist; give a plain path"};
      }
      at = joined(at, part);
      const bool shared_root = at == shared_bus_root;
      const mode_t mode = shared_root ? 01777 : sharing == bus_sharing::group ? 0750 : 0700;
      if (auto e = make_parent(dir, at, mode, t)) return e;
    }
    real = joined(at, where.name);
    if (auto e = make_bus(real, sharing, me)) return e;
  }
  if (auto e = check_bus_directory(dir, sharing)) return e;
  return write_marker(dir, real);
}

mode_t bus_file_mode(const fs::path& dir) noexcept {
  struct stat st {};
  const bool group_bus = ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
                         (st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IWGRP) != 0;
  return group_bus ? 0660 : 0600;
}

}  // namespace sluice::inbox
