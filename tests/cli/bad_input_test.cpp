// Bad input: one line on stderr naming the problem and the fix, the documented exit code,
// and nothing half-done on disk.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "support/cli_checks.hpp"

using namespace sluice::test;
namespace fs = std::filesystem;

namespace {

bool mentions(const std::string& text, const std::string& word) {
  return text.find(word) != std::string::npos;
}

// Messages sent into a bus that must not exist afterwards.
void require_no_inbox_files(const bus_fixture& bus) {
  if (!fs::exists(bus.dir())) return;
  for (const auto& entry : fs::directory_iterator(bus.dir())) {
    INFO(entry.path());
    CHECK(entry.path().extension() != ".inbox");
  }
}

}  // namespace

TEST_CASE("an unknown verb exits 64 with one line naming it and pointing at --help") {
  bus_fixture bus;
  const auto r = bus.run({"frobnicate", "a"});
  CHECK(r.exit_code == 64);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "frobnicate"));
  CHECK(mentions(r.err, "--help"));
}

TEST_CASE("no verb at all exits 64 with one line") {
  bus_fixture bus;
  const auto r = bus.run({});
  CHECK(r.exit_code == 64);
  CHECK(is_one_line(r.err));
}

TEST_CASE("a verb without its arguments exits 64 and points at that verb's help") {
  bus_fixture bus;
  for (const char* verb : {"send", "recv", "init", "count", "cleanup", "peek", "clear"}) {
    const auto r = bus.run({verb});
    INFO(verb << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK(is_one_line(r.err));
    CHECK(mentions(r.err, std::string("sluice ") + verb + " --help"));
  }
  const auto r = bus.run({"send", "a", "b", "t"});
  CHECK(r.exit_code == 64);
  CHECK(mentions(r.err, "payload"));
}

TEST_CASE("an unknown flag exits 64") {
  bus_fixture bus;
  const auto r = bus.run({"recv", "b", "--frobnicate"});
  CHECK(r.exit_code == 64);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "--frobnicate"));
}

TEST_CASE("flags that contradict each other exit 64 instead of one being ignored") {
  bus_fixture bus;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"send", "a", "b", "t", "x", "--no-wait", "--timeout", "5s"},
        std::vector<std::string>{"--dir", "/tmp/sluice-never-made", "--bus", "b", "count", "b"}}) {
    const auto r = bus.run(args);
    INFO(r.err);
    CHECK(r.exit_code == 64);
    CHECK(is_one_line(r.err));
    CHECK(mentions(r.err, "excludes"));
  }
  require_no_inbox_files(bus);
}

TEST_CASE("every verb answers --help with its usage and exit 0") {
  bus_fixture bus;
  for (const char* verb : {"init", "init-system", "cleanup", "cleanup-system", "send",
                           "send-backpressure", "recv", "receive", "peek", "clear", "count",
                           "get-size", "check-capacity", "get-utilization", "get-stats"}) {
    const auto r = bus.run({verb, "--help"});
    INFO(verb);
    CHECK(r.exit_code == 0);
    CHECK(mentions(r.out, "Usage"));
  }
  const auto top = bus.run({"--help"});
  CHECK(top.exit_code == 0);
  CHECK(mentions(top.out, "Exit codes"));
}

TEST_CASE("invalid agent names exit 65 with one line and create no inbox") {
  bus_fixture bus;
  const std::string too_long(65, 'a');
  for (const std::string& name :
       std::vector<std::string>{"../x", "", too_long, "two words", "agënt", "a/b", "."}) {
    INFO("name: [" << name << "]");
    auto r = bus.run({"send", "alice", name, "t", "x"});
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
    CHECK(mentions(r.err, "A-Z a-z 0-9 _ -"));
    r = bus.run({"send", name, "bob", "t", "x"});
    CHECK(r.exit_code == 65);
    r = bus.run({"recv", name});
    CHECK(r.exit_code == 65);
    r = bus.run({"init", name});
    CHECK(r.exit_code == 65);
  }
  require_no_inbox_files(bus);
  CHECK_FALSE(fs::exists(bus.root() / "x.inbox"));
}

TEST_CASE("a 64-character agent name is accepted") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", std::string(64, 'n'), "t", "x"});
  CHECK(count_of(bus, std::string(64, 'n')) == 1);
}

TEST_CASE("invalid priority, overflow, timeout and type values exit 65 and send nothing") {
  bus_fixture bus;
  const std::vector<std::vector<std::string>> cases = {
      {"send", "a", "b", "t", "x", "--priority", "urgent"},
      {"send", "a", "b", "t", "x", "--overflow", "drop-newest"},
      {"send", "a", "b", "t", "x", "--timeout", "soon"},
      {"send", "a", "b", "t", "x", "--timeout=-1s"},
      {"send", "a", "b", "a type with spaces", "x"},
      {"send", "a", "b", std::string(33, 't'), "x"},
  };
  for (const auto& args : cases) {
    const auto r = bus.run(args);
    INFO(args[5 < args.size() ? 5 : 3] << ": " << r.err);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
  }
  require_no_inbox_files(bus);
}

TEST_CASE("an oversized payload exits 65 and sends nothing, from an argument or from stdin") {
  bus_fixture bus;
  ok_out(bus, {"init", "b"});
  const std::string big(5000, 'x');  // the default slot is 4096 bytes
  auto r = bus.run({"send", "a", "b", "t", big});
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "bytes"));
  r = bus.run({"send", "a", "b", "t", "-"}, std::string(1 << 20, 'y'));
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK(count_of(bus, "b") == 0);
}

TEST_CASE("a payload just over the inbox's own limit is refused by the inbox with 65") {
  bus_fixture bus;
  ok_out(bus, {"init", "b"});
  const std::string big(4090, 'x');  // under the slot size, over the slot minus its header
  const auto r = bus.run({"send", "a", "b", "t", big});
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK(count_of(bus, "b") == 0);
}

TEST_CASE("the refusal of an oversized payload names what the inbox really takes") {
  bus_fixture bus;
  // A 4096-byte slot holds 3960 bytes of payload; the refusal said 4096 above that size.
  auto r = bus.run({"send", "a", "b", "t", std::string(5000, 'x')});
  CHECK(r.exit_code == 65);
  CHECK(mentions(r.err, "payload is 5000 bytes, inbox b takes at most 3960"));
  r = bus.run({"send", "a", "b", "t", "-"}, std::string(1 << 20, 'y'));
  CHECK(r.exit_code == 65);
  CHECK(mentions(r.err, "inbox b takes at most 3960"));
  CHECK_FALSE(fs::exists(bus.inbox_file("b")));
}

TEST_CASE("an inbox made with larger slots takes a payload over the configured slot size") {
  bus_fixture bus;
  CHECK(bus.run_env({{"SLUICE_SLOT_SIZE", "8192"}}, {"init", "b"}).exit_code == 0);
  ok_out(bus, {"send", "a", "b", "t", std::string(5000, 'x')});
  ok_out(bus, {"send", "a", "b", "t", "-"}, std::string(6000, 'y'));
  CHECK(count_of(bus, "b") == 2);
}

TEST_CASE("a payload too large for agent@peer is told in the sender's terms") {
  bus_fixture bus;
  // The envelope "far\n" rides in front of the payload in outbound inbox bridge-west.
  for (int round = 0; round < 2; ++round) {  // a new outbound inbox, then an existing one
    const auto r = bus.run({"send", "a", "far@west", "t", std::string(3960, 'x')});
    CHECK(r.exit_code == 65);
    CHECK(mentions(r.err, "payload is 3960 bytes, inbox far@west takes at most 3956"));
    ok_out(bus, {"send", "a", "far@west", "t", std::string(3956, 'x')});
  }
  CHECK(count_of(bus, "bridge-west") == 2);
}

TEST_CASE("a payload a new inbox could not take creates neither the inbox nor the bus") {
  bus_fixture bus;
  const std::string big(4090, 'x');  // under the slot size, over the slot minus its header
  auto r = bus.run({"send", "a", "b", "t", big});
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "nothing sent"));
  r = bus.run({"send", "a", "b", "t", "-"}, big);
  CHECK(r.exit_code == 65);
  CHECK_FALSE(fs::exists(bus.inbox_file("b")));
  CHECK_FALSE(fs::exists(bus.dir()));
  // The largest payload that fits is sent, into the inbox created for it.
  ok_out(bus, {"send", "a", "b", "t", std::string(4096 - 136, 'x')});
  CHECK(count_of(bus, "b") == 1);
}

TEST_CASE("unreadable stdin exits 74 and sends nothing") {
  bus_fixture bus;
  // A directory as stdin: open succeeds, read fails with EISDIR.
  const int dir_fd = ::open(bus.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dir_fd >= 0);
  auto o = bus.options_for({"send", "a", "b", "t", "-"});
  o.stdin_fd = dir_fd;
  process p(o);
  ::close(dir_fd);
  const auto r = p.finish();
  CHECK(r.exit_code == 74);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "stdin"));
  require_no_inbox_files(bus);
}

TEST_CASE("a bus directory that cannot be created exits 71 with one line and writes nothing") {
  bus_fixture bus;
  // A regular file where a parent directory should be: mkdir fails with ENOTDIR even for root,
  // which a read-only mode bit would not stop.
  std::ofstream(bus.root() / "afile") << "not a directory";
  bus.env["SLUICE_DIR"] = (bus.root() / "afile" / "bus").string();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"send", "a", "b", "t", "x"}, {"init", "b"}, {"init-system"}}) {
    const auto r = bus.run(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 71);
    CHECK(is_one_line(r.err));
  }
  CHECK(fs::is_regular_file(bus.root() / "afile"));
}

TEST_CASE("a truncated inbox file is refused with 65 and left for inspection") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "x"});
  fs::resize_file(bus.inbox_file("b"), 100);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"count", "b"}, {"recv", "b"}, {"send", "a", "b", "t", "y"}}) {
    const auto r = bus.run(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
  }
  CHECK(fs::file_size(bus.inbox_file("b")) == 100);
}

TEST_CASE("an inbox file with a corrupted header is refused with 65") {
  bus_fixture bus;
  ok_out(bus, {"init", "b"});
  {
    std::fstream f(bus.inbox_file("b"), std::ios::in | std::ios::out | std::ios::binary);
    f.write("GARBAGE!", 8);
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"count", "b"}, {"recv", "b"}, {"send", "a", "b", "t", "y"}}) {
    const auto r = bus.run(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
  }
}

TEST_CASE("get-stats lists a corrupted inbox with its error and still shows the others") {
  bus_fixture bus;
  ok_out(bus, {"init", "bad", "good"});
  fs::resize_file(bus.inbox_file("bad"), 100);
  const auto r = bus.run({"get-stats"});
  CHECK(r.exit_code == 0);
  const auto stats = parse_json(r.out);
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].at("agent") == "bad");
  CHECK(stats[0].contains("error"));
  CHECK(stats[1].at("size") == 0);
}

TEST_CASE("an inbox owned by another user is refused with 77 even when running as root") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "secret"});
  const uid_t nobody = 65534;
  REQUIRE(::chown(bus.inbox_file("b").c_str(), nobody, nobody) == 0);
  REQUIRE(::chmod(bus.inbox_file("b").c_str(), 0600) == 0);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"recv", "b"},
                                               {"peek", "b"},
                                               {"count", "b"},
                                               {"clear", "b"},
                                               {"send", "a", "b", "t", "y"},
                                               {"cleanup", "b"}}) {
    const auto r = bus.run(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 77);
    CHECK(is_one_line(r.err));
    CHECK(mentions(r.err, "uid 65534"));
  }
  CHECK(fs::exists(bus.inbox_file("b")));
}

TEST_CASE("invalid MAX_INBOX_SIZE values are clear errors that create nothing") {
  bus_fixture bus;
  for (const char* value : {"abc", "0", "-5", "99999999999", "12abc", ""}) {
    const auto r = bus.run_env({{"MAX_INBOX_SIZE", value}}, {"send", "a", "b", "t", "x"});
    INFO("MAX_INBOX_SIZE=" << value << ": " << r.err);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
    CHECK(mentions(r.err, "MAX_INBOX_SIZE"));
  }
  require_no_inbox_files(bus);
}

TEST_CASE("invalid backpressure settings in the environment are clear errors") {
  bus_fixture bus;
  for (const char* var : {"BACKPRESSURE_WAIT_MS", "BACKPRESSURE_MAX_RETRIES", "CFN_BATCH_SIZE"}) {
    const auto r = bus.run_env({{var, "lots"}}, {"send", "a", "b", "t", "x"});
    INFO(var << ": " << r.err);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
    CHECK(mentions(r.err, var));
  }
}

TEST_CASE("an invalid SLUICE_LOG_LEVEL is a clear error") {
  bus_fixture bus;
  const auto r = bus.run_env({{"SLUICE_LOG_LEVEL", "chatty"}}, {"count", "b"});
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "SLUICE_LOG_LEVEL"));
}

TEST_CASE("an existing inbox keeps its capacity and a different MAX_INBOX_SIZE is warned about") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "5";
  ok_out(bus, {"init", "b"});
  const auto r = bus.run_env({{"MAX_INBOX_SIZE", "10"}}, {"send", "a", "b", "t", "x"});
  CHECK(r.exit_code == 0);
  CHECK(is_one_line(r.err));
  CHECK(mentions(r.err, "capacity 5"));
  const auto stats = parse_json(ok_out(bus, {"get-stats"}));
  CHECK(stats[0].at("max_size") == 5);
  // The default (MAX_INBOX_SIZE unset) is not a request for another size: no warning.
  bus.env.erase("MAX_INBOX_SIZE");
  CHECK(bus.run({"send", "a", "b", "t", "x"}).err.empty());
}

TEST_CASE("a sluice.toml in the bus directory sets the capacity of new inboxes") {
  bus_fixture bus;
  fs::create_directories(bus.dir());
  std::ofstream(bus.dir() / "sluice.toml") << "[inbox]\nmax_size = 7\n";
  ok_out(bus, {"init", "b"});
  CHECK(parse_json(ok_out(bus, {"get-stats"}))[0].at("max_size") == 7);
  // The environment wins over the file.
  ok_out(bus, {"cleanup", "b"});
  bus.env["MAX_INBOX_SIZE"] = "9";
  ok_out(bus, {"init", "b"});
  CHECK(parse_json(ok_out(bus, {"get-stats"}))[0].at("max_size") == 9);
}
