// The real `sluice` executable run as another user (nobody, via setpriv): it can neither read
// nor write someone else's inbox and says why in one line; --group shares a bus with the
// members of one group only; symlinks and oversized payloads are refused with clear errors.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

namespace {

bool is_root() {
  return ::geteuid() == 0;
}

// sluice <args> as user nobody, group nogroup, plus the supplementary groups given.
run_result as_nobody(const bus_fixture& bus, const std::vector<std::string>& args,
                     const std::string& groups = {}) {
  auto opts = bus.options_for(args);
  std::vector<std::string> prefix = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup"};
  if (groups.empty()) {
    prefix.emplace_back("--clear-groups");
  } else {
    prefix.push_back("--groups=" + groups);
  }
  opts.argv.insert(opts.argv.begin(), prefix.begin(), prefix.end());
  process p(opts);
  return p.finish();
}

// Lets nobody walk down to the bus directory (the test root is a private mkdtemp folder).
void open_path_to(const fs::path& dir) {
  for (fs::path p = dir; p.has_relative_path() && p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & 0001) == 0)
      ::chmod(p.c_str(), (st.st_mode & 0777) | 0011);
    if (p.parent_path() == fs::temp_directory_path()) break;
  }
}

}  // namespace

TEST_CASE(
    "another user can neither receive from nor send to an inbox, and is told why in one line") {
  if (!is_root()) {
    WARN("not root: cannot switch to user nobody, nothing checked");
    return;
  }
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

TEST_CASE("the --group mode shares an inbox with the members of its group and nobody else") {
  if (!is_root()) {
    WARN("not root: cannot switch users, nothing checked");
    return;
  }
  const group* g = ::getgrnam("users");
  if (g == nullptr) {
    WARN("no group 'users' here, nothing checked");
    return;
  }
  const std::string gid = std::to_string(g->gr_gid);
  bus_fixture bus;
  ok_out(bus, {"--group", "init", "w"});
  struct stat st {};
  REQUIRE(::stat(bus.inbox_file("w").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0660);
  // Hand the bus to the group, as an administrator setting up a shared bus would.
  REQUIRE(::chown(bus.dir().c_str(), 0, g->gr_gid) == 0);
  REQUIRE(::chmod(bus.dir().c_str(), 0770) == 0);
  REQUIRE(::chown(bus.inbox_file("w").c_str(), 0, g->gr_gid) == 0);
  open_path_to(bus.root());
  const auto member = as_nobody(bus, {"--group", "send", "member", "w", "t", "hello"}, gid);
  INFO(member.err);
  CHECK(member.exit_code == 0);
  const auto outsider = as_nobody(bus, {"--group", "send", "outsider", "w", "t", "hello"});
  CHECK(outsider.exit_code != 0);
  CHECK(is_one_line(outsider.err));
  const auto without_flag = as_nobody(bus, {"send", "member", "w", "t", "hello"}, gid);
  CHECK(without_flag.exit_code == 77);
  CHECK(count_of(bus, "w") == 1);
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
    WARN("not root: cannot mount a tmpfs, nothing checked");
    return;
  }
  bus_fixture bus;
  const fs::path mnt = bus.root() / "small";
  fs::create_directory(mnt);
  if (::system(("mount -t tmpfs -o size=1m tmpfs " + mnt.string()).c_str()) != 0) {
    WARN("mounting a tmpfs failed here, nothing checked");
    return;
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
    WARN("not root: cannot mount a tmpfs, nothing checked");
    return;
  }
  bus_fixture bus;
  const fs::path mnt = bus.root() / "few-inodes";
  fs::create_directory(mnt);
  // Plenty of space, but only 8 inodes: too few for the 20 inboxes asked for.
  if (::system(("mount -t tmpfs -o size=64m,nr_inodes=8 tmpfs " + mnt.string()).c_str()) != 0) {
    WARN("mounting a tmpfs failed here, nothing checked");
    return;
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
