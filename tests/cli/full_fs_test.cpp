// A full filesystem under a bus: every verb and every lane fails cleanly (one line, exit 71)
// or keeps working; none dies of SIGBUS (exit 135), none leaves a temp file behind. And an
// inbox truncated under a running `recv --follow` ends it with one line, not SIGBUS.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/cli_checks.hpp"
#include "support/skip.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A small tmpfs mounted for one test, filled to the last byte on request, unmounted after.
class small_tmpfs {
 public:
  small_tmpfs(const fs::path& at, const std::string& size) : at_(at) {
    if (::geteuid() != 0) SLUICE_SKIP("mounting a tmpfs needs root");
    fs::create_directories(at_);
    if (std::system(("mount -t tmpfs -o size=" + size + " tmpfs " + at_.string()).c_str()) != 0)
      SLUICE_SKIP("mount -t tmpfs failed here");
  }
  ~small_tmpfs() { (void)std::system(("umount -l " + at_.string()).c_str()); }
  small_tmpfs(const small_tmpfs&) = delete;
  small_tmpfs& operator=(const small_tmpfs&) = delete;

  // Writes a file until the filesystem says ENOSPC.
  void fill() const {
    const int fd = ::open((at_ / "filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    const std::vector<char> chunk(64 * 1024, 'f');
    std::size_t size = chunk.size();
    for (;;) {
      const ssize_t n = ::write(fd, chunk.data(), size);
      if (n > 0) continue;
      if (n < 0 && errno == ENOSPC && size > 1) {
        size /= 2;  // the last few pages
        continue;
      }
      break;
    }
    ::close(fd);
  }

 private:
  fs::path at_;
};

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

void check_clean_failure(const run_result& r, const std::string& what) {
  INFO(what << ": exit " << r.exit_code << ", stderr: " << r.err);
  CHECK(r.exit_code == 71);
  CHECK(is_one_line(r.err));
  CHECK(r.err.find("space") != std::string::npos);
}

}  // namespace

TEST_CASE(
    "on a full filesystem every verb and lane fails cleanly or keeps working, and inboxes "
    "created earlier keep working") {
  bus_fixture bus;
  small_tmpfs fs_(bus.root() / "small", "16m");
  bus.env["SLUICE_DIR"] = (bus.root() / "small" / "bus").string();
  const fs::path dir = bus.env["SLUICE_DIR"];
  ok_out(bus, {"init", "w"});
  ok_out(bus, {"send", "a", "w", "t", "before"});
  ok_out(bus, {"send", "--priority", "critical", "a", "w", "t", "urgent"});
  fs_.fill();

  // Readers touch every lane; the never-used high and low rings must not be faulted in.
  CHECK(count_of(bus, "w") == 2);
  CHECK(parse_json(ok_out(bus, {"peek", "w"})).size() == 2);
  CHECK(parse_json(ok_out(bus, {"get-stats"})).size() == 1);
  ok_out(bus, {"doctor"});
  ok_out(bus, {"check-capacity", "w"});
  ok_out(bus, {"get-utilization", "w"});

  // The lanes that were backed at creation keep taking messages; the others say no space.
  ok_out(bus, {"send", "a", "w", "t", "normal after"});
  ok_out(bus, {"send", "--priority", "critical", "a", "w", "t", "critical after"});
  for (const std::string prio : {"high", "low"}) {
    check_clean_failure(bus.run({"send", "--priority", prio, "a", "w", "t", "x"}),
                        "send --priority " + prio);
  }
  const auto got = parse_json(ok_out(bus, {"recv", "w"}));
  REQUIRE(got.size() == 4);
  CHECK(got[0]["payload"] == "urgent");
  CHECK(got[1]["payload"] == "critical after");
  CHECK(got[2]["payload"] == "before");
  CHECK(got[3]["payload"] == "normal after");

  ok_out(bus, {"send", "a", "w", "t", "to clear"});
  CHECK(ok_out(bus, {"clear", "w"}) == "1\n");

  {
    auto follow = bus.start({"recv", "w", "--follow"});
    ok_out(bus, {"send", "a", "w", "t", "followed"});
    const auto line = follow.read_line(10s);
    REQUIRE(line);
    CHECK(parse_json(*line)["payload"] == "followed");
    follow.signal(SIGTERM);
    CHECK(follow.finish().exit_code == 0);
  }

  // Creating anything new fails with one line and leaves nothing half made.
  check_clean_failure(bus.run({"init", "x"}), "init x");
  check_clean_failure(bus.run({"init-system"}), "init-system");
  check_clean_failure(bus.run({"apply-rate-limit"}), "apply-rate-limit");
  check_clean_failure(bus.run({"send", "--rate-limit", "10", "a", "w", "t", "x"}),
                      "send --rate-limit");
  for (const auto& name : names_in(dir)) {
    INFO(name);
    CHECK(name.find(".tmp") == std::string::npos);
    CHECK(name != "x.inbox");
    CHECK(name != "bus.ctl");
  }
  CHECK(count_of(bus, "w") == 0);
  ok_out(bus, {"doctor"});
}

TEST_CASE("an inbox truncated under a running recv --follow ends it with one line, not SIGBUS") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "w", "t", "first"});
  auto follow = bus.start({"recv", "w", "--follow"});
  const auto line = follow.read_line(10s);
  REQUIRE(line);
  REQUIRE(::truncate(bus.inbox_file("w").c_str(), 0) == 0);
  const auto r = follow.finish({}, 10s);
  INFO(r.err);
  CHECK(r.exit_code == 74);
  CHECK(is_one_line(r.err));
  CHECK(r.err.find("shrank") != std::string::npos);
}

TEST_CASE("doctor lists the temp files of creators that died and --repair removes them") {
  bus_fixture bus;
  ok_out(bus, {"init", "w"});
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  const std::string pid = std::to_string(dead);
  const std::vector<std::string> leftovers = {".w.inbox.tmp." + pid + ".7", "bus.ctl.tmp." + pid,
                                              "metrics.prom.tmp." + pid + ".3"};
  for (const auto& name : leftovers) {
    const int fd = ::open((bus.dir() / name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
  }
  const auto listed = bus.run({"doctor", "--json"});
  INFO(listed.out << listed.err);
  auto j = parse_json(listed.out);
  CHECK(j["leftover_files"].size() == leftovers.size());
  CHECK(listed.exit_code != 0);
  ok_out(bus, {"doctor", "--repair"});
  for (const auto& name : leftovers) CHECK_FALSE(fs::exists(bus.dir() / name));
  ok_out(bus, {"doctor"});
}

TEST_CASE("a 64 MB /dev/shm holds 15 idle inboxes at the default geometry, 60 with 1 KiB slots") {
  struct geometry {
    const char* slot_size;
    int at_least;
  };
  for (const geometry g : {geometry{"4096", 15}, geometry{"1024", 60}}) {
    DYNAMIC_SECTION("slot size " << g.slot_size) {
      bus_fixture bus;
      small_tmpfs fs_(bus.root() / "container-shm", "64m");
      bus.env["SLUICE_DIR"] = (bus.root() / "container-shm" / "bus").string();
      bus.env["SLUICE_SLOT_SIZE"] = g.slot_size;
      int created = 0;
      run_result last;
      for (;;) {
        last = bus.run({"init", "agent" + std::to_string(created)});
        if (last.exit_code != 0) break;
        ++created;
      }
      INFO(last.err);
      CHECK(last.exit_code == 71);
      CHECK(created >= g.at_least);
      // Every one of them still takes a message (their normal lanes were backed at creation).
      for (int i = 0; i < created; ++i)
        ok_out(bus, {"send", "a", "agent" + std::to_string(i), "t", "fits"});
      WARN("64 MB tmpfs, slot size " << g.slot_size << ": " << created << " inboxes");
    }
  }
}
