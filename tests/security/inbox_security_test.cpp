// Hostile conditions at the inbox layer: another user, symlinks planted in the bus, a full
// /dev/shm, and payloads at the size limit. Tests that need root (switching users, mounting a
// tmpfs) are skipped when not run as root.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "inbox/files/bus_directory.hpp"
#include "inbox/inbox.hpp"
#include "support/children.hpp"
#include "support/skip.hpp"

using namespace sluice::inbox;
namespace fs = std::filesystem;

namespace {

class temp_root {
 public:
  temp_root() {
    std::string tmpl = (fs::temp_directory_path() / "sluice-security-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
  }
  ~temp_root() {
    if (mounted_) ::umount2(root_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  temp_root(const temp_root&) = delete;
  temp_root& operator=(const temp_root&) = delete;
  const fs::path& path() const { return root_; }
  // Mounts a tmpfs of `bytes` (and at most `inodes` files and directories, 0: the default)
  // on the root; false when this process may not mount.
  bool mount_tmpfs(std::size_t bytes, std::size_t inodes = 0) {
    std::string opts = "size=" + std::to_string(bytes) + ",mode=0700";
    if (inodes != 0) opts += ",nr_inodes=" + std::to_string(inodes);
    mounted_ = ::mount("tmpfs", root_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) == 0;
    return mounted_;
  }

 private:
  fs::path root_;
  bool mounted_ = false;
};

message_view msg(std::string_view payload) {
  return message_view{"tester", "note", payload, priority::normal};
}

// Every file in dir but the bus marker (which every bus holds): inboxes, and temp files a
// failed creation left behind.
std::vector<std::string> stray_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name != bus_marker_name) out.push_back(name);
  }
  return out;
}

// Every name in dir, the bus marker included.
std::vector<std::string> everything_in(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path().filename().string());
  return out;
}

// Runs fn as the given user and group (no supplementary groups) in a child; returns its exit
// code.
template <class F>
int as_user(uid_t uid, gid_t gid, F fn) {
  return sluice::test::reap(sluice::test::spawn([&] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) return 91;
    return fn();
  }));
}

const passwd* nobody_user() {
  return ::getpwnam("nobody");
}

// Runs fn as user nobody / group nogroup in a child; returns its exit code.
template <class F>
int as_nobody(F fn) {
  const passwd* pw = nobody_user();
  const group* gr = ::getgrnam("nogroup");
  if (pw == nullptr || gr == nullptr) return 90;
  return as_user(pw->pw_uid, gr->gr_gid, fn);
}

// As nobody: mkdir p with the mode given (set explicitly, whatever the umask).
void squat_as_nobody(const fs::path& p, mode_t mode) {
  REQUIRE(as_nobody([&] {
            return ::mkdir(p.c_str(), 0700) == 0 && ::chmod(p.c_str(), mode) == 0 ? 0 : 1;
          }) == 0);
}

bool mentions(const std::string& text, const std::string& word) {
  return text.find(word) != std::string::npos;
}

bool is_root() {
  return ::geteuid() == 0;
}

// Every file in dir is a complete inbox: it opens and takes a message. Returns the names of
// those that do not, and of anything that is not an inbox at all (a temp file left behind).
std::vector<std::string> broken_inboxes(const fs::path& dir) {
  std::vector<std::string> broken;
  for (const auto& name : stray_files(dir)) {
    const fs::path file(name);
    if (file.extension() != ".inbox" || name.front() == '.') {
      broken.push_back(name);
      continue;
    }
    auto in = inbox::open(dir, file.stem().string());
    if (!in || in->try_push(msg("still works")) != push_result::ok) broken.push_back(name);
  }
  return broken;
}

// 16 regular + 1 critical slot of 4 KiB: about 100 KB reserved each.
const create_options small_inbox{16, 1, 4096, 0600};

// Creates agent0, agent1, ... until creation fails (at most 100): how many were made, and the
// last result (the refusal, when made < 100).
std::pair<int, result<inbox>> create_until_refused(const fs::path& dir) {
  int made = 0;
  result<inbox> last = error{errc::io_error, ""};
  for (; made < 100; ++made) {
    last = inbox::open_or_create(dir, "agent" + std::to_string(made), small_inbox);
    if (!last) break;
  }
  return {made, std::move(last)};
}

}  // namespace

TEST_CASE("a bus directory is created 0700 and an inbox 0600 whatever the umask") {
  temp_root root;
  const mode_t old = ::umask(0);
  auto in = inbox::open_or_create(root.path() / "bus", "agent");
  ::umask(old);
  REQUIRE(in);
  struct stat st {};
  REQUIRE(::stat((root.path() / "bus").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(in->path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("another user can neither read nor write an inbox, even in a directory it may enter") {
  if (!is_root()) {
    SLUICE_SKIP("not root: cannot switch to user nobody, nothing checked");
  }
  temp_root root;
  auto in = inbox::open_or_create(root.path() / "bus", "agent");
  REQUIRE(in);
  REQUIRE(in->try_push(msg("secret")) == push_result::ok);
  const fs::path file = in->path();
  // 1. The default: the 0700 bus directory keeps nobody out entirely.
  REQUIRE(::chmod(root.path().c_str(), 0755) == 0);
  CHECK(as_nobody([&] {
          auto other = inbox::open(root.path() / "bus", "agent");
          return !other && other.err().code == errc::permission_denied ? 0 : 1;
        }) == 0);
  // 2. Even with the directory opened up by mistake, the 0600 file is closed to other users.
  REQUIRE(::chmod((root.path() / "bus").c_str(), 0755) == 0);
  CHECK(as_nobody([&] {
          if (::open(file.c_str(), O_RDONLY) >= 0 || errno != EACCES) return 1;
          if (::open(file.c_str(), O_WRONLY) >= 0 || errno != EACCES) return 2;
          auto other = inbox::open(root.path() / "bus", "agent");
          if (other || other.err().code != errc::permission_denied) return 3;
          return other.err().message.find("permission denied") != std::string::npos ? 0 : 4;
        }) == 0);
  CHECK(in->size() == 1);
}

TEST_CASE("a symlinked inbox file is refused and the file it points to is left untouched") {
  temp_root root;
  const fs::path dir = root.path() / "bus";
  REQUIRE(inbox::open_or_create(dir, "real"));
  const fs::path victim = root.path() / "victim.txt";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, dir / "evil.inbox");
  auto opened = inbox::open_or_create(dir, "evil");
  REQUIRE_FALSE(opened);
  CHECK(opened.err().code == errc::path_is_symlink);
  std::ifstream in(victim);
  std::string content;
  std::getline(in, content);
  CHECK(content == "precious");
  CHECK(fs::file_size(victim) == 8);
}

TEST_CASE(
    "a symlink to another user's inbox is refused, so a planted link cannot redirect messages") {
  temp_root root;
  const fs::path real = root.path() / "real";
  const fs::path planted = root.path() / "planted";
  auto target = inbox::open_or_create(real, "target");
  REQUIRE(target);
  fs::create_directory(planted);
  fs::create_symlink(target->path(), planted / "agent.inbox");
  auto opened = inbox::open(planted, "agent");
  REQUIRE_FALSE(opened);
  CHECK(opened.err().code == errc::path_is_symlink);
  CHECK(target->size() == 0);
}

TEST_CASE("a symlinked bus directory is refused for opening and for creating") {
  temp_root root;
  const fs::path real = root.path() / "real";
  REQUIRE(inbox::open_or_create(real, "agent"));
  fs::create_directory_symlink(real, root.path() / "link");
  auto opened = inbox::open(root.path() / "link", "agent");
  REQUIRE_FALSE(opened);
  CHECK(opened.err().code == errc::path_is_symlink);
  auto created = inbox::open_or_create(root.path() / "link", "other");
  REQUIRE_FALSE(created);
  CHECK(created.err().code == errc::path_is_symlink);
  CHECK_FALSE(fs::exists(real / "other.inbox"));
}

TEST_CASE("a full tmpfs refuses a new inbox with no_space and leaves no half-created file") {
  if (!is_root()) {
    SLUICE_SKIP(
        "not root: cannot mount a tmpfs, nothing checked (the file-size-limit test covers the same "
        "path)");
  }
  temp_root root;
  if (!root.mount_tmpfs(1u << 20)) {
    SLUICE_SKIP("mounting a tmpfs failed here, nothing checked");
  }
  const fs::path dir = root.path() / "bus";
  // Default geometry reserves about 4.5 MB: it cannot fit in 1 MiB.
  auto big = inbox::open_or_create(dir, "big");
  REQUIRE_FALSE(big);
  CHECK(big.err().code == errc::no_space);
  CHECK(big.err().message.find("no space") != std::string::npos);
  CHECK(stray_files(dir).empty());
}

TEST_CASE(
    "creating inboxes until the tmpfs is full fails cleanly and keeps the earlier inboxes "
    "working") {
  if (!is_root()) {
    SLUICE_SKIP("not root: cannot mount a tmpfs, nothing checked");
  }
  temp_root root;
  if (!root.mount_tmpfs(1u << 20)) {
    SLUICE_SKIP("mounting a tmpfs failed here, nothing checked");
  }
  const fs::path dir = root.path() / "bus";
  const auto [made, last] = create_until_refused(dir);
  REQUIRE(made > 0);
  REQUIRE(made < 100);
  CHECK(last.err().code == errc::no_space);
  CHECK(stray_files(dir).size() == static_cast<std::size_t>(made));
  CHECK_FALSE(fs::exists(dir / ("agent" + std::to_string(made) + ".inbox")));
  auto first = inbox::open(dir, "agent0");
  REQUIRE(first);
  CHECK(first->try_push(msg("still works")) == push_result::ok);
}

TEST_CASE(
    "a file-size limit hit while creating an inbox answers no_space and leaves nothing behind") {
  temp_root root;
  const fs::path dir = root.path() / "bus";
  const pid_t child = sluice::test::spawn([&] {
    std::signal(SIGXFSZ, SIG_IGN);  // so ftruncate/fallocate answer EFBIG instead of killing us
    const rlimit lim{64 * 1024, 64 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 90;
    auto in = inbox::open_or_create(dir, "agent");
    if (in) return 1;
    return in.err().code == errc::no_space ? 0 : 2;
  });
  CHECK(sluice::test::reap(child) == 0);
  CHECK(stray_files(dir).empty());
}

TEST_CASE(
    "a payload of exactly the maximum size is delivered intact and one byte more is refused") {
  temp_root root;
  auto in = inbox::open_or_create(root.path() / "bus", "agent", create_options{8, 1, 1024, 0600});
  REQUIRE(in);
  const std::uint32_t max = in->snapshot().max_payload;
  CHECK(max == 1024 - 136);
  std::string exact(max, '\0');
  for (std::size_t i = 0; i < exact.size(); ++i) exact[i] = static_cast<char>(i * 7 + 3);
  CHECK(in->try_push(msg(exact)) == push_result::ok);
  CHECK(in->try_push(msg(std::string(max + 1, 'x'))) == push_result::too_large);
  CHECK(in->size() == 1);
  auto c = in->attach_consumer();
  REQUIRE(c);
  auto got = c->pop_batch(4);
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == exact);
  c->commit();
  CHECK(in->snapshot().rejected_full == 0);
}

TEST_CASE(
    "creating inboxes until the bus directory has no inode left answers no_space and leaves only "
    "complete inboxes") {
  if (!is_root()) {
    SLUICE_SKIP("not root: cannot mount a tmpfs, nothing checked");
  }
  temp_root root;
  // Space for 100 small inboxes, but only 10 inodes: the tmpfs root, the bus directory and
  // one per inbox (the temp file a creation writes becomes the inbox by a hard link).
  if (!root.mount_tmpfs(100 * 256 * 1024, 10)) {
    SLUICE_SKIP("mounting a tmpfs failed here, nothing checked");
  }
  const fs::path dir = root.path() / "bus";
  const auto [made, last] = create_until_refused(dir);
  REQUIRE(made > 0);
  REQUIRE(made < 100);
  INFO(last.err().message);
  CHECK(last.err().code == errc::no_space);
  CHECK(last.err().message.find("agent" + std::to_string(made)) != std::string::npos);
  // Out of inodes, not bytes: the advice is to remove files, not to shrink inboxes.
  CHECK(last.err().message.find("no free inode") != std::string::npos);
  CHECK(last.err().message.find("MAX_INBOX_SIZE") == std::string::npos);
  CHECK(stray_files(dir).size() == static_cast<std::size_t>(made));
  CHECK(broken_inboxes(dir).empty());
}

TEST_CASE(
    "a process out of file descriptors gets a clear error for one more inbox and leaves only "
    "complete inboxes") {
#if defined(SLUICE_TEST_UBSAN)
  // UBSan's vptr check tests whether memory is readable through a pipe of its own, so with no
  // descriptor left it reports a valid object (Boost's exception) as invalid. The plain and
  // TSan builds run this test.
  SLUICE_SKIP("UBSan needs descriptors of its own, nothing checked in this build");
#endif
  temp_root root;
  const fs::path dir = root.path() / "bus";
  int report[2];
  REQUIRE(::pipe(report) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Every open inbox keeps one descriptor. New descriptors take the lowest free numbers and
    // must stay below the limit: put it just above the 24th free number.
    int free_fds = 0;
    int fd = 0;
    for (; free_fds < 24; ++fd)
      if (::fcntl(fd, F_GETFD) == -1) ++free_fds;
    const auto limit = static_cast<rlim_t>(fd);
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_max < limit) ::_exit(90);
    lim.rlim_cur = limit;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(91);
    std::vector<inbox> open;
    std::string line = "none";
    for (int i = 0; i < 200; ++i) {
      auto in = inbox::open_or_create(dir, "agent" + std::to_string(i), small_inbox);
      if (!in) {
        line = std::to_string(i) + " " + to_string(in.err().code) + " " + in.err().message;
        break;
      }
      open.push_back(std::move(in.value()));
    }
    (void)!::write(report[1], line.data(), line.size());
    ::_exit(0);
  }
  ::close(report[1]);
  std::string line;
  char buf[512];
  for (ssize_t n; (n = ::read(report[0], buf, sizeof buf)) > 0;)
    line.append(buf, static_cast<std::size_t>(n));
  ::close(report[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  INFO(line);
  REQUIRE(line != "none");
  const int made = std::stoi(line);
  CHECK(made > 0);
  CHECK(line.find("agent" + std::to_string(made)) != std::string::npos);
  CHECK(line.find("Too many open files") != std::string::npos);
  // The failing call may have published its inbox before running out (the mapping needs a
  // descriptor of its own); that inbox must then be complete, like all the others.
  const auto left = stray_files(dir).size();
  CHECK((left == static_cast<std::size_t>(made) || left == static_cast<std::size_t>(made) + 1));
  CHECK(broken_inboxes(dir).empty());
}

TEST_CASE("a bus directory another user made is refused and nothing is created in it") {
  if (!is_root()) SLUICE_SKIP("not root: cannot act as user nobody");
  temp_root root;
  // Sticky and world-writable like /dev/shm/sluice, so nobody can make a directory there.
  REQUIRE(::chmod(root.path().c_str(), 01777) == 0);
  for (const mode_t mode : {mode_t{0777}, mode_t{0700}}) {
    INFO("squatted with mode " << std::oct << mode);
    const fs::path squat = root.path() / ("squat" + std::to_string(mode));
    squat_as_nobody(squat, mode);
    auto created = inbox::open_or_create(squat, "agent");
    REQUIRE_FALSE(created);
    CHECK(created.err().code == errc::permission_denied);
    CHECK(
        mentions(created.err().message, "belongs to uid " + std::to_string(nobody_user()->pw_uid)));
    CHECK(mentions(created.err().message, "rm -r"));
    auto shared = inbox::open_or_create(squat, "agent", create_options{16, 1, 4096, 0660});
    REQUIRE_FALSE(shared);
    CHECK(shared.err().code == errc::permission_denied);
    auto opened = inbox::open(squat, "agent");
    REQUIRE_FALSE(opened);
    CHECK(opened.err().code == errc::permission_denied);
    CHECK(everything_in(squat).empty());
  }
}

TEST_CASE("a directory above the bus that another user owns is refused before anything is made") {
  if (!is_root()) SLUICE_SKIP("not root: cannot act as user nobody");
  temp_root root;
  REQUIRE(::chmod(root.path().c_str(), 01777) == 0);
  const fs::path parent = root.path() / "parent";
  squat_as_nobody(parent, 0755);
  auto created = inbox::open_or_create(parent / "deeper" / "bus", "agent");
  REQUIRE_FALSE(created);
  CHECK(created.err().code == errc::permission_denied);
  CHECK(mentions(created.err().message, parent.string() + ", above bus directory"));
  CHECK(everything_in(parent).empty());
  // A symlink on the way belongs to whoever made it: nobody's link to a root-owned directory
  // could be pointed elsewhere at any time.
  const fs::path real = root.path() / "real";
  fs::create_directory(real);
  const fs::path link = root.path() / "link";
  REQUIRE(as_nobody([&] { return ::symlink(real.c_str(), link.c_str()) == 0 ? 0 : 1; }) == 0);
  created = inbox::open_or_create(link / "bus", "agent");
  REQUIRE_FALSE(created);
  CHECK(created.err().code == errc::permission_denied);
  CHECK(everything_in(real).empty());
}

TEST_CASE("a world- or group-writable directory above the bus is refused unless it is sticky") {
  temp_root root;
  const fs::path open_dir = root.path() / "open";
  fs::create_directory(open_dir);
  for (const mode_t mode : {mode_t{0777}, mode_t{0775}}) {
    INFO("mode " << std::oct << mode);
    REQUIRE(::chmod(open_dir.c_str(), mode) == 0);
    auto created = inbox::open_or_create(open_dir / "bus", "agent");
    REQUIRE_FALSE(created);
    CHECK(created.err().code == errc::permission_denied);
    CHECK(mentions(created.err().message, "not sticky"));
    CHECK(everything_in(open_dir).empty());
  }
  // Sticky, like /tmp and /dev/shm: only an entry's owner may rename it.
  REQUIRE(::chmod(open_dir.c_str(), 01777) == 0);
  CHECK(inbox::open_or_create(open_dir / "bus", "agent"));
}

TEST_CASE("a bus directory of one's own that others may write is refused with the fix") {
  temp_root root;
  const fs::path dir = root.path() / "bus";
  fs::create_directory(dir);
  struct expectation {
    mode_t mode;
    const char* fix;
  };
  for (const auto& e : {expectation{0777, "chmod o-w"}, expectation{0770, "chmod g-w"},
                        expectation{0707, "chmod o-w"}}) {
    INFO("mode " << std::oct << e.mode);
    REQUIRE(::chmod(dir.c_str(), e.mode) == 0);
    auto created = inbox::open_or_create(dir, "agent");
    REQUIRE_FALSE(created);
    CHECK(created.err().code == errc::permission_denied);
    CHECK(mentions(created.err().message, e.fix));
    CHECK(everything_in(dir).empty());
  }
  // Readable by others is no threat to the inboxes (0600 each).
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  CHECK(inbox::open_or_create(dir, "agent"));
}

TEST_CASE("a private bus in a world-writable sticky directory is kept from other users") {
  if (!is_root()) SLUICE_SKIP("not root: cannot act as another user");
  // What /dev/shm/sluice is: one user's bus in a sticky, world-writable root. Another user
  // may keep a bus of their own next to it but cannot take this one over.
  temp_root root;
  REQUIRE(::chmod(root.path().c_str(), 01777) == 0);
  const fs::path mine = root.path() / "mine";
  auto in = inbox::open_or_create(mine, "agent");
  REQUIRE(in);
  CHECK(as_nobody([&] {
          auto theirs = inbox::open_or_create(root.path() / "theirs", "agent");
          if (!theirs) return 1;
          auto taken = inbox::open_or_create(mine, "intruder");
          return !taken && taken.err().code == errc::permission_denied ? 0 : 2;
        }) == 0);
  CHECK_FALSE(fs::exists(mine / "intruder.inbox"));
}

TEST_CASE("an unprivileged user refuses a bus directory another unprivileged user made") {
  if (!is_root()) SLUICE_SKIP("not root: cannot act as two other users");
  temp_root root;
  REQUIRE(::chmod(root.path().c_str(), 01777) == 0);
  const fs::path squat = root.path() / "squat";
  // The squatter needs no account: a uid of its own is enough to own a directory.
  const uid_t squatter = 54321;
  REQUIRE(as_user(squatter, squatter, [&] {
            return ::mkdir(squat.c_str(), 0700) == 0 && ::chmod(squat.c_str(), 0777) == 0 ? 0 : 1;
          }) == 0);
  CHECK(as_nobody([&] {
          auto created = inbox::open_or_create(squat, "agent");
          if (created || created.err().code != errc::permission_denied) return 1;
          return mentions(created.err().message, "belongs to uid 54321") ? 0 : 2;
        }) == 0);
  CHECK(everything_in(squat).empty());
}

TEST_CASE("a group bus is used only when the caller asks to share, and is made setgid 02770") {
  temp_root root;
  const fs::path dir = root.path() / "team";
  const create_options shared{16, 1, 4096, 0660};
  auto made = inbox::open_or_create(dir, "agent", shared);
  REQUIRE(made);
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 02770);
  CHECK(st.st_gid == ::getegid());
  REQUIRE(::stat(made->path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0660);
  CHECK(fs::exists(dir / bus_marker_name));
  CHECK(bus_file_mode(dir) == 0660);
  // A private inbox is not created in a bus others may write.
  auto private_one = inbox::open_or_create(dir, "other", create_options{16, 1, 4096, 0600});
  REQUIRE_FALSE(private_one);
  CHECK(private_one.err().code == errc::permission_denied);
  CHECK(mentions(private_one.err().message, "--group"));
  CHECK(check_bus_directory(dir, bus_sharing::private_bus).has_value());
  CHECK_FALSE(check_bus_directory(dir, bus_sharing::group).has_value());
  // open() leaves the choice to its caller (the CLI refuses a group bus without --group).
  CHECK(inbox::open(dir, "agent"));
  // Group-writable without setgid: files made there would not belong to the group.
  REQUIRE(::chmod(dir.c_str(), 0770) == 0);
  auto lost_group = inbox::open_or_create(dir, "another", shared);
  REQUIRE_FALSE(lost_group);
  CHECK(mentions(lost_group.err().message, "chmod g+s"));
  CHECK(bus_file_mode(dir) == 0600);
}

TEST_CASE("a group bus of a group the caller is not in is refused") {
  if (!is_root()) SLUICE_SKIP("not root: cannot act as another user");
  temp_root root;
  REQUIRE(::chmod(root.path().c_str(), 0755) == 0);
  const fs::path dir = root.path() / "team";
  REQUIRE(inbox::open_or_create(dir, "agent", create_options{16, 1, 4096, 0660}));
  CHECK(as_nobody([&] {
          auto e = check_bus_directory(dir, bus_sharing::group);
          if (!e || e->code != errc::permission_denied) return 1;
          return mentions(e->message, "not a member") ? 0 : 2;
        }) == 0);
}
