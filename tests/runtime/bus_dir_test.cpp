#include "runtime/bus_dir.hpp"

#include <grp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <optional>
#include <string>

#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::runtime;
using sluice::test::temp_dir;
namespace fs = std::filesystem;

namespace {

// Sets (or unsets, for nullopt) an environment variable for one scope.
class scoped_env {
 public:
  scoped_env(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void touch(const fs::path& p) {
  std::ofstream(p) << "x";
}

}  // namespace

TEST_CASE("the bus directory is --dir or --bus, else SLUICE_DIR, else /dev/shm/sluice/<bus>") {
  scoped_env no_dir("SLUICE_DIR", std::nullopt);
  scoped_env no_bus("SLUICE_BUS", std::nullopt);
  {
    auto loc = resolve_bus({});
    REQUIRE(loc);
    CHECK(loc->dir == "/dev/shm/sluice/default");
    CHECK(loc->bus == "default");
    CHECK(std::string(loc->source) == "default");
  }
  {
    scoped_env bus("SLUICE_BUS", "team-a");
    CHECK(resolve_bus({})->dir == "/dev/shm/sluice/team-a");
    auto flagged = resolve_bus({"", "team_b"});
    CHECK(flagged->dir == "/dev/shm/sluice/team_b");
    CHECK(std::string(flagged->source) == "--bus");
  }
  {
    scoped_env dir("SLUICE_DIR", "/tmp/from-env");
    scoped_env bus("SLUICE_BUS", "ignored");
    auto loc = resolve_bus({});
    CHECK(loc->dir == "/tmp/from-env");
    CHECK(std::string(loc->source) == "SLUICE_DIR");
    auto flagged = resolve_bus({"/tmp/from-flag", ""});
    CHECK(flagged->dir == "/tmp/from-flag");
    CHECK(std::string(flagged->source) == "--dir");
  }
}

TEST_CASE(
    "a --bus flag names the bus even where SLUICE_DIR is set, as in an agent that launch runs") {
  scoped_env dir("SLUICE_DIR", "/tmp/from-env");
  scoped_env bus("SLUICE_BUS", "from-env");
  auto loc = resolve_bus({"", "other"});
  REQUIRE(loc);
  CHECK(loc->dir == "/dev/shm/sluice/other");
  CHECK(loc->bus == "other");
  CHECK(std::string(loc->source) == "--bus");
}

TEST_CASE("the --dir and --bus flags together are refused rather than one silently ignored") {
  scoped_env no_dir("SLUICE_DIR", std::nullopt);
  auto loc = resolve_bus({"/tmp/a", "b"});
  REQUIRE_FALSE(loc);
  CHECK(loc.err().code == errc::invalid_argument);
  CHECK(loc.err().message.find("--dir and --bus") != std::string::npos);
}

TEST_CASE("a bus name that could leave /dev/shm/sluice is refused") {
  scoped_env no_dir("SLUICE_DIR", std::nullopt);
  for (const char* bad : {"../etc", "a/b", "has space", ".", "..", "é", "x\n"}) {
    auto loc = resolve_bus({"", bad});
    INFO(bad);
    REQUIRE_FALSE(loc);
    CHECK(loc.err().code == errc::invalid_name);
    CHECK(loc.err().message.find("--bus") != std::string::npos);
  }
  CHECK_FALSE(resolve_bus({"", std::string(65, 'a')}));
  CHECK(resolve_bus({"", std::string(64, 'a')}));
  scoped_env bad_env("SLUICE_BUS", "../../x");
  auto loc = resolve_bus({});
  REQUIRE_FALSE(loc);
  CHECK(loc.err().message.find("SLUICE_BUS") != std::string::npos);
}

TEST_CASE("an empty SLUICE_DIR is an error rather than the current directory") {
  scoped_env empty("SLUICE_DIR", "");
  auto loc = resolve_bus({});
  REQUIRE_FALSE(loc);
  CHECK(loc.err().message.find("SLUICE_DIR") != std::string::npos);
}

TEST_CASE("ensure_bus_dir creates the directory and its parents with mode 0700 and marks it") {
  temp_dir tmp;
  const fs::path dir = tmp.path() / "a" / "b" / "bus";
  REQUIRE(ensure_bus_dir(dir));
  for (const fs::path& p : {tmp.path() / "a", tmp.path() / "a" / "b", dir}) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
  }
  CHECK(fs::exists(dir / bus_marker_name));
  CHECK(is_sluice_bus(dir));
  CHECK(ensure_bus_dir(dir));  // idempotent
}

TEST_CASE("with --group ensure_bus_dir makes a setgid 02770 bus in the caller's group") {
  temp_dir tmp;
  const fs::path dir = tmp.path() / "team" / "bus";
  REQUIRE(ensure_bus_dir(dir, sluice::inbox::bus_sharing::group));
  struct stat st {};
  REQUIRE(::lstat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 02770);
  CHECK(st.st_gid == ::getegid());
  // A missing parent is made for the group to pass through, not to write.
  REQUIRE(::lstat((tmp.path() / "team").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0750);
  CHECK(fs::exists(dir / bus_marker_name));
  CHECK(check_bus_dir(dir, sluice::inbox::bus_sharing::group));
  // Sharing is explicit: a private caller is told to pass --group.
  auto private_check = check_bus_dir(dir);
  REQUIRE_FALSE(private_check);
  CHECK(private_check.err().code == errc::permission_denied);
  CHECK(private_check.err().message.find("--group") != std::string::npos);
  REQUIRE_FALSE(ensure_bus_dir(dir));
}

TEST_CASE("ensure_bus_dir refuses a bus directory that is not the caller's and marks nothing") {
  if (::geteuid() != 0) SLUICE_SKIP("not root: cannot give a directory to another user");
  temp_dir tmp;
  const fs::path dir = tmp.path() / "squat";
  fs::create_directory(dir);
  REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0);
  REQUIRE(::chmod(dir.c_str(), 0777) == 0);
  auto made = ensure_bus_dir(dir);
  REQUIRE_FALSE(made);
  CHECK(made.err().code == errc::permission_denied);
  CHECK(made.err().message.find("belongs to uid 65534") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / bus_marker_name));
  auto checked = check_bus_dir(dir);
  REQUIRE_FALSE(checked);
  CHECK(checked.err().code == errc::permission_denied);
}

TEST_CASE("a bus path through a symlink the caller owns is judged where it leads") {
  temp_dir tmp;
  const fs::path real = tmp.path() / "real";
  fs::create_directory(real);
  fs::create_directory_symlink(real, tmp.path() / "link");
  REQUIRE(ensure_bus_dir(tmp.path() / "link" / "bus"));
  CHECK(fs::exists(real / "bus" / bus_marker_name));
  // A relative link, and a .. after it, resolve as the kernel resolves them.
  fs::create_directory(real / "sub");
  fs::create_directory_symlink("real/sub", tmp.path() / "relative");
  REQUIRE(ensure_bus_dir(tmp.path() / "relative" / ".." / "bus2"));
  CHECK(fs::exists(real / "bus2" / bus_marker_name));
  // Where it leads is as open as a directory on the way may not be.
  REQUIRE(::chmod(real.c_str(), 0777) == 0);
  auto checked = check_bus_dir(tmp.path() / "link" / "bus");
  REQUIRE_FALSE(checked);
  CHECK(checked.err().code == errc::permission_denied);
  CHECK(checked.err().message.find(real.string() + ", above bus directory") != std::string::npos);
  REQUIRE(::chmod(real.c_str(), 0700) == 0);
}

TEST_CASE("a symlink loop on the way to a bus is an error, not a hang") {
  temp_dir tmp;
  fs::create_directory_symlink(tmp.path() / "b", tmp.path() / "a");
  fs::create_directory_symlink(tmp.path() / "a", tmp.path() / "b");
  auto made = ensure_bus_dir(tmp.path() / "a" / "bus");
  REQUIRE_FALSE(made);
  CHECK(made.err().code == errc::path_is_symlink);
  CHECK(made.err().message.find("loop") != std::string::npos);
}

TEST_CASE("a bus directory named . or .. is refused with the way to name it") {
  temp_dir tmp;
  for (const char* tail : {".", ".."}) {
    auto made = ensure_bus_dir(tmp.path() / tail);
    REQUIRE_FALSE(made);
    CHECK(made.err().code == errc::invalid_argument);
    CHECK(made.err().message.find("$PWD") != std::string::npos);
  }
  CHECK(ensure_bus_dir(tmp.path() / "bus/"));
  CHECK(fs::exists(tmp.path() / "bus" / bus_marker_name));
}

TEST_CASE("a symlinked bus directory is refused, never followed") {
  temp_dir tmp;
  fs::create_directory(tmp.path() / "real");
  fs::create_directory_symlink(tmp.path() / "real", tmp.path() / "link");
  auto made = ensure_bus_dir(tmp.path() / "link");
  REQUIRE_FALSE(made);
  CHECK(made.err().code == errc::path_is_symlink);
  CHECK_FALSE(fs::exists(tmp.path() / "real" / bus_marker_name));
  auto checked = check_bus_dir(tmp.path() / "link");
  REQUIRE_FALSE(checked);
  CHECK(checked.err().code == errc::path_is_symlink);
  auto removed = remove_bus(tmp.path() / "link");
  REQUIRE_FALSE(removed);
  CHECK(fs::exists(tmp.path() / "real"));
}

TEST_CASE("a bus directory this process cannot write is reported with the way out") {
  // 0: refused as permission_denied with the way out; anything else says what went wrong.
  auto refused_with_way_out = [] {
    temp_dir tmp;
    const fs::path dir = tmp.path() / "ro";
    fs::create_directory(dir);
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    auto made = ensure_bus_dir(dir);
    fs::permissions(dir, fs::perms::owner_all);
    if (made) return 1;
    if (made.err().code != errc::permission_denied) return 2;
    return made.err().message.find("--dir") != std::string::npos ? 0 : 3;
  };
  if (::geteuid() != 0) {
    CHECK(refused_with_way_out() == 0);
    return;
  }
  // Root writes anywhere, so the check runs as user nobody.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(90);
    ::_exit(refused_with_way_out());
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a missing bus directory is not_found for read-only verbs") {
  temp_dir tmp;
  auto checked = check_bus_dir(tmp.path() / "nope");
  REQUIRE_FALSE(checked);
  CHECK(checked.err().code == errc::not_found);
  CHECK(list_agents(tmp.path() / "nope").empty());
}

TEST_CASE("list_agents returns valid inbox names sorted, skipping everything else") {
  temp_dir tmp;
  for (const char* f :
       {"w2.inbox", "a-1.inbox", "W1.inbox", "bad name.inbox", "notes.txt", "bus.ctl", ".inbox"}) {
    touch(tmp.path() / f);
  }
  fs::create_directory(tmp.path() / "dir.inbox");
  fs::create_symlink(tmp.path() / "w2.inbox", tmp.path() / "link.inbox");
  CHECK(list_agents(tmp.path()) == std::vector<std::string>{"W1", "a-1", "w2"});
  CHECK(inbox_file(tmp.path(), "w2") == tmp.path() / "w2.inbox");
}

TEST_CASE("a directory holding only sluice files is a bus even without the marker") {
  temp_dir tmp;
  CHECK_FALSE(is_sluice_bus(tmp.path()));  // empty: nothing says it is a bus
  for (const char* f : {"w1.inbox", "bus.ctl", "metrics.jsonl", "metrics.jsonl.1",
                        "metrics.jsonl.lock", "alerts.jsonl", "metrics.prom",
                        "metrics.prom.tmp.123", "bus.ctl.tmp.9", ".w1.inbox.tmp.77.123456"}) {
    touch(tmp.path() / f);
  }
  CHECK(is_sluice_bus(tmp.path()));
  touch(tmp.path() / "thesis.tex");
  CHECK_FALSE(is_sluice_bus(tmp.path()));
  CHECK_FALSE(is_sluice_bus(tmp.path() / "w1.inbox"));
  fs::remove(tmp.path() / "thesis.tex");
  touch(tmp.path() / "thesis.tmp.1");  // a temp name sluice does not write
  CHECK_FALSE(is_sluice_bus(tmp.path()));
}

TEST_CASE("remove_bus refuses a directory that is not a bus and leaves it untouched") {
  temp_dir tmp;
  touch(tmp.path() / "w1.inbox");
  touch(tmp.path() / "important.doc");
  auto removed = remove_bus(tmp.path());
  REQUIRE_FALSE(removed);
  CHECK(removed.err().message.find("not a sluice bus") != std::string::npos);
  CHECK(fs::exists(tmp.path() / "w1.inbox"));
  CHECK(fs::exists(tmp.path() / "important.doc"));
}

TEST_CASE("remove_bus deletes a bus and keeps the user's sluice.toml") {
  temp_dir tmp;
  const fs::path bus = tmp.path() / "bus";
  REQUIRE(ensure_bus_dir(bus));
  touch(bus / "w1.inbox");
  touch(bus / "alerts.jsonl");
  REQUIRE(remove_bus(bus));
  CHECK_FALSE(fs::exists(bus));
  CHECK(remove_bus(bus));  // already gone is fine

  REQUIRE(ensure_bus_dir(bus));
  touch(bus / "w1.inbox");
  touch(bus / "sluice.toml");
  REQUIRE(remove_bus(bus));
  CHECK(fs::exists(bus / "sluice.toml"));
  CHECK_FALSE(fs::exists(bus / "w1.inbox"));
}

TEST_CASE("remove_bus on a marked bus never deletes files sluice did not make") {
  temp_dir tmp;
  const fs::path bus = tmp.path() / "bus";
  REQUIRE(ensure_bus_dir(bus));
  touch(bus / "w1.inbox");
  touch(bus / "notes.txt");
  fs::create_directory(bus / "sub");
  REQUIRE(remove_bus(bus));
  CHECK(fs::exists(bus / "notes.txt"));
  CHECK(fs::exists(bus / "sub"));
  CHECK_FALSE(fs::exists(bus / "w1.inbox"));
}

TEST_CASE("a bus that ran a bridge is recognised and removed with its link status files") {
  temp_dir tmp;
  const fs::path bus = tmp.path() / "bus";
  REQUIRE(fs::create_directory(bus));
  for (const char* f : {"w1.inbox", "bridge-east.inbox", "bridge-east.json",
                        "bridge-east.json.tmp4242", "bridge-west_2.json"}) {
    touch(bus / f);
  }
  CHECK(is_sluice_bus(bus));  // no marker: every file is one sluice writes
  for (const char* f : {"bridge-.json", "bridge-a b.json", "bridge-east.json.tmpx",
                        "bridge-east.json.tmp", "bridge-east.jsonl"}) {
    touch(bus / f);
    CHECK_FALSE(is_sluice_bus(bus));
    fs::remove(bus / f);
  }
  REQUIRE(remove_bus(bus));
  CHECK_FALSE(fs::exists(bus));
}
