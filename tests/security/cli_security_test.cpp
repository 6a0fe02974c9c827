// The real `sluice` executable run as other users (via setpriv): it can neither read nor
// write someone else's inbox and says why in one line; it refuses a bus directory, a path to
// it or a sluice.toml that someone else could have changed; --group makes a bus two users of
// one group can use; symlinks and oversized payloads are refused with clear errors.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/cli_checks.hpp"
#include "support/skip.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

namespace {

bool is_root() {
  return ::geteuid() == 0;
}

bool mentions(const std::string& text, const std::string& word) {
  return text.find(word) != std::string::npos;
}

// sluice <args> as another user: setpriv's --reuid / --regid and either --clear-groups (no
// `groups`), --init-groups (groups == "init": the user's own from /etc/group) or --groups.
run_result as_user(const bus_fixture& bus, const std::string& user, const std::string& group,
                   const std::vector<std::string>& args, const std::string& groups = {},
                   const env_map& extra = {}) {
  auto opts = bus.options_for(args);
  for (const auto& [k, v] : extra) opts.env[k] = v;
  std::vector<std::string> prefix = {"/usr/bin/setpriv", "--reuid=" + user, "--regid=" + group};
  if (groups.empty()) {
    prefix.emplace_back("--clear-groups");
  } else if (groups == "init") {
    prefix.emplace_back("--init-groups");
  } else {
    prefix.push_back("--groups=" + groups);
  }
  opts.argv.insert(opts.argv.begin(), prefix.begin(), prefix.end());
  process p(opts);
  return p.finish();
}

// sluice <args> as user nobody, group nogroup, plus the supplementary groups given.
run_result as_nobody(const bus_fixture& bus, const std::vector<std::string>& args,
                     const std::string& groups = {}, const env_map& extra = {}) {
  return as_user(bus, "nobody", "nogroup", args, groups, extra);
}

// Runs a plain command (mkdir, chmod) as another user; true when it exits 0.
bool command_as(const std::string& user, const std::string& group,
                const std::vector<std::string>& argv) {
  process::options opts;
  opts.argv = {"/usr/bin/setpriv", "--reuid=" + user, "--regid=" + group, "--clear-groups"};
  opts.argv.insert(opts.argv.end(), argv.begin(), argv.end());
  opts.env = {{"PATH", "/usr/bin:/bin"}};
  process p(opts);
  return p.finish().exit_code == 0;
}

// What a hostile user does first: makes the directory sluice will use, open to everyone.
void squat(const fs::path& dir, const std::string& mode, const std::string& user = "nobody",
           const std::string& group = "nogroup") {
  REQUIRE(command_as(user, group, {"/bin/mkdir", "-m", mode, dir.string()}));
  struct stat st {};
  REQUIRE(::lstat(dir.c_str(), &st) == 0);
  REQUIRE(st.st_uid != ::geteuid());
}

std::vector<std::string> everything_in(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  return names;
}

// Lets other users walk down to the bus directory (the test root is a private mkdtemp folder).
void open_path_to(const fs::path& dir) {
  for (fs::path p = dir; p.has_relative_path() && p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & 0001) == 0)
      ::chmod(p.c_str(), (st.st_mode & 07777) | 0011);
    if (p.parent_path() == fs::temp_directory_path()) break;
  }
}

// A group and users made for one test (root only) and removed after it, so two real accounts
// can share a bus. Every name ends in this process's pid, so parallel tests do not collide.
class temp_accounts {
 public:
  temp_accounts() = default;
  temp_accounts(const temp_accounts&) = delete;
  temp_accounts& operator=(const temp_accounts&) = delete;
  ~temp_accounts() {
    for (const auto& u : users_) run({"/usr/sbin/userdel", u});
    for (const auto& g : groups_) run({"/usr/sbin/groupdel", g});
  }
  static bool available() {
    return ::access("/usr/sbin/useradd", X_OK) == 0 && ::access("/usr/sbin/groupadd", X_OK) == 0;
  }
  std::string add_group(const std::string& role) {
    const auto name = "slt" + role + std::to_string(::getpid());
    REQUIRE(run({"/usr/sbin/groupadd", name}));
    groups_.push_back(name);
    return name;
  }
  // A user whose primary group is `group`, without a home directory or a group of its own.
  std::string add_user(const std::string& role, const std::string& group) {
    const auto name = "slt" + role + std::to_string(::getpid());
    REQUIRE(run({"/usr/sbin/useradd", "-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", name}));
    users_.push_back(name);
    return name;
  }

 private:
  static bool run(const std::vector<std::string>& argv) {
    process::options opts;
    opts.argv = argv;
    opts.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
    process p(opts);
    return p.finish().exit_code == 0;
  }
  std::vector<std::string> users_;
  std::vector<std::string> groups_;
};

}  // namespace

TEST_CASE(
    "another user can neither receive from nor send to an inbox, and is told why in one line") {
  if (!is_root()) SLUICE_SKIP("not root: cannot switch to user nobody");
  bus_fixture bus;
  ok_out(bus, {"send", "a", "w", "t", "secret"});
  // Default modes: the 0700 bus directory keeps nobody out.
  auto r = as_nobody(bus, {"recv", "w"});
  CHECK(r.exit_code != 0);
  CHECK(is_one_line(r.err));
  CHECK(r.out.find("secret") == std::string::npos);
  // Directories opened up by mistake: the 0600 inbox and the ownership rule still hold.
  open_path_to(bus.dir());
  r = as_nobody(bus, {"recv", "w"});
  CHECK(r.exit_code == 77);
  CHECK(is_one_line(r.err));
  CHECK(r.out.find("secret") == std::string::npos);
  r = as_nobody(bus, {"send", "intruder", "w", "t", "forged"});
  CHECK(r.exit_code == 77);
  CHECK(is_one_line(r.err));
  r = as_nobody(bus, {"peek", "w"});
  CHECK(r.exit_code == 77);
  CHECK(count_of(bus, "w") == 1);
  const auto got = parse_json(ok_out(bus, {"recv", "w"}));
  REQUIRE(got.size() == 1);
  CHECK(got[0]["payload"] == "secret");
}

TEST_CASE(
    "sluice refuses a bus directory another user made, in one line, and makes nothing in it") {
  if (!is_root()) SLUICE_SKIP("not root: cannot act as user nobody");
  bus_fixture bus;
  // The test root plays /dev/shm/sluice: root's, sticky and world-writable.
  REQUIRE(::chmod(bus.root().c_str(), 01777) == 0);
  for (const std::string mode : {"0777", "0755"}) {
    const fs::path dir = bus.root() / ("squat" + mode);
    squat(dir, mode);
    for (const std::vector<std::string>& args : {std::vector<std::string>{"init", "w"},
                                                 {"send", "a", "w", "t", "secret"},
                                                 {"--group", "send", "a", "w", "t", "secret"},
                                                 {"init-system"},
                                                 {"recv", "w"},
                                                 {"count", "w"},
                                                 {"get-stats"},
                                                 {"doctor"},
                                                 {"cleanup-system"}}) {
      const auto r = bus.run_env({{"SLUICE_DIR", dir.string()}}, args);
      INFO(mode << " sluice " << args.front() << ": " << r.err);
      CHECK(r.exit_code == 77);
      CHECK(is_one_line(r.err));
      CHECK(mentions(r.err, "belongs to uid 65534 (nobody)"));
      CHECK(mentions(r.err, "rm -r " + dir.string()));
    }
    CHECK(everything_in(dir).empty());
  }
}

TEST_CASE("sluice refuses a bus under a directory another user controls and makes nothing there") {
  if (!is_root()) SLUICE_SKIP("not root: cannot act as user nobody");
  bus_fixture bus;
  REQUIRE(::chmod(bus.root().c_str(), 01777) == 0);
  // A squatted stand-in for /dev/shm/sluice, world-writable, sticky or not: its owner can
  // rename anything in it, so no bus below it is safe.
  for (const std::string mode : {"0777", "1777"}) {
    const fs::path parent = bus.root() / ("root" + mode);
    squat(parent, mode);
    for (const std::vector<std::string>& args : {std::vector<std::string>{"init", "w"},
                                                 {"send", "a", "w", "t", "secret"},
                                                 {"init-system"}}) {
      std::vector<std::string> argv = {"--dir", (parent / "bus").string()};
      argv.insert(argv.end(), args.begin(), args.end());
      const auto r = bus.run(argv);
      INFO(mode << " sluice " << args.front() << ": " << r.err);
      CHECK(r.exit_code == 77);
      CHECK(is_one_line(r.err));
      CHECK(mentions(r.err, parent.string() + ", above bus directory"));
    }
    CHECK(everything_in(parent).empty());
  }
}

TEST_CASE("sluice refuses its own bus directory when others may write to it") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "w", "t", "x"});
  for (const auto& [mode, fix] : {std::pair<mode_t, const char*>{0777, "chmod o-w"},
                                  std::pair<mode_t, const char*>{0770, "chmod g-w"}}) {
    REQUIRE(::chmod(bus.dir().c_str(), mode) == 0);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"count", "w"}, {"send", "a", "w", "t", "y"}, {"recv", "w"}}) {
      const auto r = bus.run(args);
      INFO(std::oct << mode << " sluice " << args.front() << ": " << r.err);
      CHECK(r.exit_code == 77);
      CHECK(is_one_line(r.err));
      CHECK(mentions(r.err, fix));
    }
  }
  REQUIRE(::chmod(bus.dir().c_str(), 0700) == 0);
  CHECK(count_of(bus, "w") == 1);
}

TEST_CASE("an unprivileged user refuses a bus directory another unprivileged user made") {
  if (!is_root()) SLUICE_SKIP("not root: cannot act as two other users");
  bus_fixture bus;
  REQUIRE(::chmod(bus.root().c_str(), 01777) == 0);
  const fs::path dir = bus.root() / "squat";
  // The squatter needs no account, only a uid of its own.
  squat(dir, "0777", "54321", "54321");
  const auto r = as_nobody(bus, {"init", "w"}, {}, {{"SLUICE_DIR", dir.string()}});
  INFO(r.err);
  CHECK(r.exit_code == 77);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "belongs to uid 54321"));
  CHECK(everything_in(dir).empty());
}

TEST_CASE("a sluice.toml someone else could have written is not obeyed") {
  bus_fixture bus;
  ok_out(bus, {"init", "w"});
  const fs::path toml = bus.dir() / "sluice.toml";
  const fs::path stolen = bus.root() / "stolen.jsonl";
  std::ofstream(toml) << "[inbox]\nmax_size = 1\n[metrics]\nfile = \"" << stolen.string() << "\"\n";
  struct variant {
    const char* what;
    mode_t mode;
    bool nobody_owns;
    const char* says;
  };
  for (const auto& v : {variant{"world-writable", 0666, false, "writable by every user"},
                        variant{"group-writable", 0660, false, "writable by its group"},
                        variant{"owned by nobody", 0644, true, "belongs to uid 65534"}}) {
    INFO(v.what);
    if (v.nobody_owns && !is_root()) continue;
    REQUIRE(::chmod(toml.c_str(), v.mode) == 0);
    if (v.nobody_owns) REQUIRE(::chown(toml.c_str(), 65534, 65534) == 0);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"send", "a", "new", "t", "x"}, {"init", "new"}}) {
      const auto r = bus.run(args);
      INFO("sluice " << args.front() << ": " << r.err);
      CHECK(r.exit_code == 77);
      CHECK(is_one_line(r.err));
      CHECK(mentions(r.err, toml.string()));
      CHECK(mentions(r.err, v.says));
    }
    CHECK_FALSE(fs::exists(bus.inbox_file("new")));
    CHECK_FALSE(fs::exists(stolen));
    if (v.nobody_owns) REQUIRE(::chown(toml.c_str(), ::geteuid(), ::getegid()) == 0);
  }
  // The owner's own, not writable by others: obeyed.
  REQUIRE(::chmod(toml.c_str(), 0644) == 0);
  ok_out(bus, {"init", "new"});
  const auto stats = parse_json(ok_out(bus, {"get-stats"}));
  bool found = false;
  for (const auto& row : stats) {
    if (row["agent"] != "new") continue;
    found = true;
    CHECK(row["max_size"] == 1);
  }
  CHECK(found);
}

TEST_CASE("sluice --group makes a bus that two users of one group share, and nobody else") {
  if (!is_root()) SLUICE_SKIP("not root: cannot create users and switch to them");
  if (!temp_accounts::available()) SLUICE_SKIP("useradd/groupadd not installed");
  temp_accounts accounts;
  const auto team = accounts.add_group("team");
  const auto alice = accounts.add_user("alice", team);
  const auto bob = accounts.add_user("bob", team);
  bus_fixture bus;
  // The test root plays /dev/shm/sluice: root's, sticky and world-writable.
  REQUIRE(::chmod(bus.root().c_str(), 01777) == 0);
  auto as = [&](const std::string& user, const std::vector<std::string>& args) {
    return as_user(bus, user, team, args, "init");
  };
  auto ok_as = [&](const std::string& user, const std::vector<std::string>& args) {
    const auto r = as(user, args);
    INFO(user << ": sluice " << args.front() << " " << (args.size() > 1 ? args[1] : "") << ": "
              << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  ok_as(alice, {"--group", "init-system"});
  ok_as(alice, {"--group", "init", "alice"});
  const group* g = ::getgrnam(team.c_str());
  REQUIRE(g != nullptr);
  const std::vector<std::pair<fs::path, mode_t>> shared = {
      {bus.dir(), 02770}, {bus.dir() / "alice.inbox", 0660}, {bus.dir() / "bus.ctl", 0660}};
  for (const auto& [file, mode] : shared) {
    INFO(file);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == mode);
    CHECK(st.st_gid == g->gr_gid);
  }
  // Bob sends to alice's inbox; his own inbox, created by alice's reply, is shared too.
  ok_as(bob, {"--group", "send", "bob", "alice", "task", "from bob"});
  auto got = parse_json(ok_as(alice, {"--group", "recv", "alice"}));
  REQUIRE(got.size() == 1);
  CHECK(got[0]["from"] == "bob");
  CHECK(got[0]["payload"] == "from bob");
  ok_as(alice, {"--group", "send", "alice", "bob", "result", "for bob"});
  got = parse_json(ok_as(bob, {"--group", "recv", "bob"}));
  REQUIRE(got.size() == 1);
  CHECK(got[0]["payload"] == "for bob");
  const auto stats = parse_json(ok_as(bob, {"--group", "get-stats"}));
  CHECK(stats.size() == 2);
  // Without --group the group bus is refused, even to its creator: sharing is explicit.
  for (const auto& user : {bob, alice}) {
    const auto r = as(user, {"send", user, "alice", "t", "x"});
    INFO(user << ": " << r.err);
    CHECK(r.exit_code == 77);
    CHECK(is_one_line(r.err));
    CHECK(mentions(r.err, "--group"));
  }
  // A user outside the group gets nothing, with or without --group.
  open_path_to(bus.dir());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--group", "send", "eve", "alice", "t", "x"},
        {"--group", "recv", "alice"},
        {"send", "eve", "alice", "t", "x"}}) {
    const auto r = as_nobody(bus, args);
    INFO("nobody: sluice " << args[0] << " " << args[1] << ": " << r.err);
    CHECK(r.exit_code == 77);
    CHECK(is_one_line(r.err));
  }
  CHECK(parse_json(ok_as(alice, {"--group", "peek", "alice"})).empty());
  // A group bus below a directory of its owner (a home directory, say): the members trust
  // the owner already, so that directory may lie on their way.
  const fs::path home = bus.root() / "alice-home";
  REQUIRE(command_as(alice, team, {"/bin/mkdir", "-m", "0755", home.string()}));
  const std::string team_dir = (home / "team").string();
  ok_as(alice, {"--group", "--dir", team_dir, "init", "alice"});
  ok_as(bob, {"--group", "--dir", team_dir, "send", "bob", "alice", "t", "via home"});
  got = parse_json(ok_as(alice, {"--group", "--dir", team_dir, "recv", "alice"}));
  REQUIRE(got.size() == 1);
  CHECK(got[0]["payload"] == "via home");
}

TEST_CASE("sluice refuses a symlinked inbox or bus directory and leaves the target alone") {
  bus_fixture bus;
  ok_out(bus, {"init", "real"});
  const fs::path victim = bus.root() / "victim.txt";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, bus.inbox_file("evil"));
  auto r = bus.run({"send", "a", "evil", "t", "x"});
  CHECK(r.exit_code == 77);
  CHECK(is_one_line(r.err));
  CHECK(r.err.find("symlink") != std::string::npos);
  CHECK(fs::file_size(victim) == 8);
  const fs::path link = bus.root() / "linked-bus";
  fs::create_directory_symlink(bus.dir(), link);
  r = bus.run({"--dir", link.string(), "send", "a", "real", "t", "x"});
  CHECK(r.exit_code == 77);
  CHECK(is_one_line(r.err));
  CHECK(count_of(bus, "real") == 0);
}

TEST_CASE("sluice send takes a payload of exactly the maximum size and refuses one byte more") {
  bus_fixture bus;
  bus.env["SLUICE_SLOT_SIZE"] = "1024";
  const std::string exact(1024 - 136, 'p');
  ok_out(bus, {"send", "a", "w", "t", "-"}, exact);
  const auto r = bus.run({"send", "a", "w", "t", "-"}, exact + "q");
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK(count_of(bus, "w") == 1);
  const auto got = parse_json(ok_out(bus, {"recv", "w"}));
  REQUIRE(got.size() == 1);
  CHECK(got[0]["payload"] == exact);
}

TEST_CASE(
    "a bus on a full filesystem gets a clear error from sluice init and no half-created inbox") {
  if (!is_root()) {
    SLUICE_SKIP("not root: cannot mount a tmpfs, nothing checked");
  }
  bus_fixture bus;
  const fs::path mnt = bus.root() / "small";
  fs::create_directory(mnt);
  if (::system(("mount -t tmpfs -o size=1m tmpfs " + mnt.string()).c_str()) != 0) {
    SLUICE_SKIP("mounting a tmpfs failed here, nothing checked");
  }
  const auto r = bus.run({"--dir", (mnt / "bus").string(), "init", "w"});
  const auto left = fs::exists(mnt / "bus") ? std::distance(fs::directory_iterator(mnt / "bus"),
                                                            fs::directory_iterator{})
                                            : 0;
  std::vector<std::string> names;
  if (fs::exists(mnt / "bus")) {
    for (const auto& e : fs::directory_iterator(mnt / "bus"))
      names.push_back(e.path().filename().string());
  }
  (void)::system(("umount -l " + mnt.string()).c_str());
  CHECK(r.exit_code == 71);
  CHECK(is_one_line(r.err));
  CHECK(r.err.find("no space") != std::string::npos);
  INFO("left in the bus directory: " << names.size());
  for (const auto& n : names) CHECK(n.find(".inbox") == std::string::npos);
  CHECK(left <= 1);  // at most the bus marker
}

TEST_CASE(
    "sluice init stops with a clear error when the bus has no room for one more inbox and leaves "
    "only complete inboxes") {
  if (!is_root()) {
    SLUICE_SKIP("not root: cannot mount a tmpfs, nothing checked");
  }
  bus_fixture bus;
  const fs::path mnt = bus.root() / "few-inodes";
  fs::create_directory(mnt);
  // Plenty of space, but only 8 inodes: too few for the 20 inboxes asked for.
  if (::system(("mount -t tmpfs -o size=64m,nr_inodes=8 tmpfs " + mnt.string()).c_str()) != 0) {
    SLUICE_SKIP("mounting a tmpfs failed here, nothing checked");
  }
  const std::string dir = (mnt / "bus").string();
  std::vector<std::string> args = {"--dir", dir, "init"};
  for (int i = 0; i < 20; ++i) args.push_back("agent" + std::to_string(i));
  const auto r = bus.run_env({{"MAX_INBOX_SIZE", "16"}}, args);
  std::vector<std::string> inboxes;
  std::vector<std::string> others;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    (e.path().extension() == ".inbox" ? inboxes : others).push_back(name);
  }
  std::vector<int> counts;
  std::vector<int> sends;
  for (const auto& name : inboxes) {
    const auto agent = fs::path(name).stem().string();
    sends.push_back(bus.run({"--dir", dir, "send", "a", agent, "t", "still works"}).exit_code);
    counts.push_back(bus.run({"--dir", dir, "count", agent}).exit_code);
  }
  (void)::system(("umount -l " + mnt.string()).c_str());
  INFO(r.err);
  CHECK(r.exit_code == 71);
  CHECK(is_one_line(r.err));
  CHECK(r.err.find("no space") != std::string::npos);
  CHECK(!inboxes.empty());
  CHECK(inboxes.size() < 20);
  for (const auto& name : others) CHECK(name.find(".tmp") == std::string::npos);
  CHECK(sends == std::vector<int>(inboxes.size(), 0));
  CHECK(counts == std::vector<int>(inboxes.size(), 0));
}
