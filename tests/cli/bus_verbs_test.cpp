// init, init-system, cleanup, cleanup-system through the real executable.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>

#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

TEST_CASE("init creates one empty inbox per agent") {
  bus_fixture bus;
  const auto r = bus.run({"init", "alice", "bob"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(fs::is_regular_file(bus.inbox_file("alice")));
  CHECK(fs::is_regular_file(bus.inbox_file("bob")));
  CHECK(count_of(bus, "alice") == 0);
}

TEST_CASE("init creates inboxes readable and writable by their owner only") {
  bus_fixture bus;
  ok_out(bus, {"init", "alice"});
  struct stat st {};
  REQUIRE(::stat(bus.inbox_file("alice").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("init with one invalid name among valid ones creates no inbox at all") {
  bus_fixture bus;
  const auto r = bus.run({"init", "alice", "bad name", "carol"});
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK_FALSE(fs::exists(bus.inbox_file("alice")));
  CHECK_FALSE(fs::exists(bus.inbox_file("carol")));
}

TEST_CASE("init keeps the messages of an inbox that already exists") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "x"});
  ok_out(bus, {"init", "b"});
  CHECK(count_of(bus, "b") == 1);
}

TEST_CASE("init-system creates the bus directory and bus.ctl and prints the directory") {
  bus_fixture bus;
  const auto out = ok_out(bus, {"init-system"});
  CHECK(out == bus.dir().string() + "\n");
  CHECK(fs::is_directory(bus.dir()));
  CHECK(fs::is_regular_file(bus.dir() / "bus.ctl"));
}

TEST_CASE("a --dir flag on the command line wins over SLUICE_DIR") {
  bus_fixture bus;
  const auto other = bus.root() / "other";
  ok_out(bus, {"--dir", other.string(), "init", "alice"});
  CHECK(fs::exists(other / "alice.inbox"));
  CHECK_FALSE(fs::exists(bus.inbox_file("alice")));
  // After the verb too (global flags fall through to the verb).
  ok_out(bus, {"send", "a", "alice", "t", "x", "--dir", other.string()});
  CHECK(ok_out(bus, {"count", "alice", "--dir", other.string()}) == "1\n");
}

TEST_CASE("a --bus flag picks a named bus under /dev/shm/sluice when no directory is given") {
  bus_fixture bus;
  bus.env.erase("SLUICE_DIR");
  const std::string name = "clitest-" + std::to_string(::getpid());
  ok_out(bus, {"--bus", name, "init", "alice"});
  const fs::path dir = fs::path("/dev/shm/sluice") / name;
  CHECK(fs::exists(dir / "alice.inbox"));
  ok_out(bus, {"--bus", name, "cleanup-system"});
  CHECK_FALSE(fs::exists(dir / "alice.inbox"));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("cleanup removes an agent's inbox and its pending messages") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "x"});
  ok_out(bus, {"cleanup", "b"});
  CHECK_FALSE(fs::exists(bus.inbox_file("b")));
  CHECK(count_of(bus, "b") == 0);
}

TEST_CASE("cleanup of an agent without an inbox succeeds and does nothing") {
  bus_fixture bus;
  const auto r = bus.run({"cleanup", "nobody"});
  CHECK(r.exit_code == 0);
  CHECK_FALSE(fs::exists(bus.dir()));
}

TEST_CASE("cleanup refuses to remove an inbox while its consumer is running") {
  bus_fixture bus;
  auto follower = bus.start({"recv", "b", "--follow"});
  ok_out(bus, {"send", "a", "b", "t", "hello"});
  // The line proves the follower holds the consumer lock.
  REQUIRE(follower.read_line(std::chrono::seconds(10)).has_value());
  const auto r = bus.run({"cleanup", "b"});
  CHECK(r.exit_code == 75);
  CHECK(is_one_line(r.err));
  CHECK(fs::exists(bus.inbox_file("b")));
  follower.signal(SIGTERM);
  CHECK(follower.finish().exit_code == 0);
}

TEST_CASE("cleanup-system removes every sluice file of the bus") {
  bus_fixture bus;
  ok_out(bus, {"init-system"});
  ok_out(bus, {"init", "a", "b"});
  ok_out(bus, {"cleanup-system"});
  CHECK_FALSE(fs::exists(bus.inbox_file("a")));
  CHECK_FALSE(fs::exists(bus.inbox_file("b")));
  CHECK_FALSE(fs::exists(bus.dir() / "bus.ctl"));
}

TEST_CASE("cleanup-system refuses a directory that is not a sluice bus and leaves it alone") {
  bus_fixture bus;
  const auto home = bus.root() / "precious";
  fs::create_directories(home);
  std::ofstream(home / "thesis.tex") << "years of work";
  const auto r = bus.run({"--dir", home.string(), "cleanup-system"});
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK(fs::exists(home / "thesis.tex"));
}

TEST_CASE("cleanup-system of a bus that does not exist succeeds") {
  bus_fixture bus;
  CHECK(bus.run({"cleanup-system"}).exit_code == 0);
}
