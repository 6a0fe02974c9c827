#include "runtime/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "runtime/duration.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::runtime;
using namespace std::chrono_literals;
using sluice::test::temp_dir;

namespace {

struct fake_env {
  std::map<std::string, std::string> vars;
  env_lookup lookup() const {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// A config whose user-level sluice.toml lives in the test's own directory.
struct fixture {
  temp_dir tmp;
  fake_env env;
  std::filesystem::path bus = tmp.path() / "bus";
  std::filesystem::path user = tmp.path() / "user";
  config make() const { return config(bus, env.lookup(), user); }
};

}  // namespace

TEST_CASE("every knob has its default when nothing sets it and no sluice.toml exists") {
  fixture f;
  auto c = f.make();
  auto s = c.all();
  REQUIRE(s);
  CHECK(s->max_inbox_size == 1000);
  CHECK(s->slot_size == 4096);
  CHECK(s->critical_reserve == 64);
  CHECK(s->backpressure_wait == 100ms);
  CHECK(s->backpressure_retries == 50);
  CHECK(s->check_interval == 5s);
  CHECK(s->thresholds.high == Approx(0.8));
  CHECK(s->thresholds.medium == Approx(0.5));
  CHECK(s->batch_size == 10);
  CHECK(s->metrics_file == f.bus / "metrics.jsonl");
  CHECK(s->alert_log_file == f.bus / "alerts.jsonl");
  CHECK(s->level == log_level::info);
  CHECK(c.source_of(knob::max_inbox_size) == "default");
}

TEST_CASE("a flag beats the environment, which beats sluice.toml, which beats the default") {
  fixture f;
  write(f.bus / "sluice.toml",
        "[inbox]\nmax_size = 300\n[backpressure]\nwait_ms = 30\nmax_retries = 3\n");
  f.env.vars["MAX_INBOX_SIZE"] = "200";
  f.env.vars["BACKPRESSURE_WAIT_MS"] = "20";
  auto c = f.make();
  c.set_flag(knob::max_inbox_size, "100", "--max-size");

  CHECK(c.max_inbox_size().value() == 100);
  CHECK(c.source_of(knob::max_inbox_size) == "--max-size");
  CHECK(c.backpressure_wait().value() == 20ms);
  CHECK(c.source_of(knob::backpressure_wait) == "env BACKPRESSURE_WAIT_MS");
  CHECK(c.backpressure_retries().value() == 3);
  CHECK(c.source_of(knob::backpressure_retries) ==
        (f.bus / "sluice.toml").string() + ":5: backpressure.max_retries");
  CHECK(c.batch_size().value() == 10);
  CHECK(c.source_of(knob::batch_size) == "default");
}

TEST_CASE("the bus directory's sluice.toml beats the user's, key by key") {
  fixture f;
  write(f.bus / "sluice.toml", "[rate_limit]\nbatch_size = 7\n");
  write(f.user / "sluice.toml", "[rate_limit]\nbatch_size = 3\ncheck_interval = \"250ms\"\n");
  auto c = f.make();
  CHECK(c.batch_size().value() == 7);
  CHECK(c.check_interval().value() == 250ms);
}

TEST_CASE("the user's sluice.toml is found through XDG_CONFIG_HOME") {
  fixture f;
  f.env.vars["XDG_CONFIG_HOME"] = f.tmp.path().string() + "/xdg";
  write(f.tmp.path() / "xdg" / "sluice" / "sluice.toml", "[log]\nlevel = \"debug\"\n");
  config c(f.bus, f.env.lookup());
  CHECK(c.level().value() == log_level::debug);
}

TEST_CASE("sluice.toml is not read when flags and environment answer the question") {
  fixture f;
  write(f.bus / "sluice.toml", "this is [not toml");
  f.env.vars["CFN_BATCH_SIZE"] = "5";
  auto c = f.make();
  CHECK(c.batch_size().value() == 5);
  auto broken = c.max_inbox_size();
  REQUIRE_FALSE(broken);
  CHECK(broken.err().message.find("sluice.toml:1:") != std::string::npos);
  CHECK(broken.err().message.find("not valid TOML") != std::string::npos);
}

TEST_CASE("an invalid value in the environment is an error naming the variable and the range") {
  struct bad {
    const char* var;
    const char* value;
  };
  const bad cases[] = {
      {"MAX_INBOX_SIZE", "abc"},
      {"MAX_INBOX_SIZE", "0"},
      {"MAX_INBOX_SIZE", "-5"},
      {"MAX_INBOX_SIZE", "99999999999"},
      {"MAX_INBOX_SIZE", ""},
      {"MAX_INBOX_SIZE", "10 "},
      {"MAX_INBOX_SIZE", "1e3"},
      {"SLUICE_SLOT_SIZE", "100"},
      {"SLUICE_SLOT_SIZE", "4097"},
      {"SLUICE_CRITICAL_RESERVE", "-1"},
      {"BACKPRESSURE_WAIT_MS", "0"},
      {"BACKPRESSURE_WAIT_MS", "100ms"},
      {"BACKPRESSURE_WAIT_MS", "3600001"},
      {"BACKPRESSURE_MAX_RETRIES", "0"},
      {"BACKPRESSURE_MAX_RETRIES", "x"},
      {"RATE_LIMIT_CHECK_INTERVAL", "0"},
      {"RATE_LIMIT_CHECK_INTERVAL", "0.05"},
      {"RATE_LIMIT_CHECK_INTERVAL", "-1"},
      {"RATE_LIMIT_CHECK_INTERVAL", "2d"},
      {"RATE_LIMIT_CHECK_INTERVAL", "5h"},
      {"RATE_LIMIT_HIGH_LOAD_THRESHOLD", "1.5"},
      {"RATE_LIMIT_HIGH_LOAD_THRESHOLD", "-0.1"},
      {"RATE_LIMIT_HIGH_LOAD_THRESHOLD", "high"},
      {"RATE_LIMIT_MEDIUM_LOAD_THRESHOLD", "nan"},
      {"CFN_BATCH_SIZE", "0"},
      {"CFN_BATCH_SIZE", "10001"},
      {"METRICS_FILE", ""},
      {"ALERT_LOG_FILE", ""},
      {"SLUICE_LOG_LEVEL", "verbose"},
  };
  for (const auto& b : cases) {
    fixture f;
    f.env.vars[b.var] = b.value;
    auto c = f.make();
    auto all = c.all();
    INFO(b.var << "=" << b.value);
    REQUIRE_FALSE(all);
    CHECK(all.err().code == errc::invalid_argument);
    CHECK(all.err().message.find(b.var) != std::string::npos);
    CHECK(all.err().message.find("expected") != std::string::npos);
  }
}

TEST_CASE("an invalid value in sluice.toml is an error naming the file, the key and the range") {
  const std::pair<const char*, const char*> cases[] = {
      {"[inbox]\nmax_size = \"1000\"\n", "inbox.max_size"},
      {"[inbox]\nmax_size = 0\n", "inbox.max_size"},
      {"[inbox]\nmax_size = 1.5\n", "inbox.max_size"},
      {"[backpressure]\nwait_ms = -3\n", "backpressure.wait_ms"},
      {"[rate_limit]\nhigh_load_threshold = 2\n", "rate_limit.high_load_threshold"},
      {"[rate_limit]\ncheck_interval = \"soon\"\n", "rate_limit.check_interval"},
      {"[rate_limit]\ncheck_interval = 0.01\n", "rate_limit.check_interval"},
      {"[metrics]\nfile = 3\n", "metrics.file"},
      {"[log]\nlevel = true\n", "log.level"},
  };
  for (const auto& [text, key] : cases) {
    fixture f;
    write(f.bus / "sluice.toml", text);
    auto c = f.make();
    auto all = c.all();
    INFO(text);
    REQUIRE_FALSE(all);
    CHECK(all.err().message.find(key) != std::string::npos);
    CHECK(all.err().message.find("sluice.toml:2: " + std::string(key)) != std::string::npos);
    CHECK(all.err().message.find("expected") != std::string::npos);
  }
}

TEST_CASE("an unknown key in sluice.toml is reported as such, not ignored") {
  fixture f;
  write(f.bus / "sluice.toml", "[inbox]\n\nmax_sise = 10\n");
  auto c = f.make();
  auto size = c.max_inbox_size();
  REQUIRE_FALSE(size);
  // As launch manifests and policy files say it: file and line, key, problem, what is known.
  CHECK(size.err().message.find("sluice.toml:3: inbox.max_sise: unknown key (known: "
                                "inbox.max_size, inbox.slot_size,") != std::string::npos);
}

TEST_CASE("a value in sluice.toml that is not a section is told with its line") {
  fixture f;
  write(f.bus / "sluice.toml", "\ninbox = 3\n");
  auto size = f.make().max_inbox_size();
  REQUIRE_FALSE(size);
  CHECK(size.err().message.find("sluice.toml:2: inbox: not a section") != std::string::npos);
}

TEST_CASE("a medium load threshold at or above the high one is an error naming both") {
  fixture f;
  f.env.vars["RATE_LIMIT_MEDIUM_LOAD_THRESHOLD"] = "0.8";
  auto c = f.make();
  auto t = c.thresholds();
  REQUIRE_FALSE(t);
  CHECK(t.err().message.find("RATE_LIMIT_MEDIUM_LOAD_THRESHOLD") != std::string::npos);
  CHECK(t.err().message.find("RATE_LIMIT_HIGH_LOAD_THRESHOLD") != std::string::npos);
}

TEST_CASE("check intervals accept seconds, fractions and units down to 100 ms") {
  const std::pair<const char*, std::chrono::milliseconds> cases[] = {
      {"5", 5s}, {"0.1", 100ms}, {"1.5", 1500ms}, {"250ms", 250ms}, {"2m", 120s}, {"1h", 3600s}};
  for (const auto& [text, expected] : cases) {
    fixture f;
    f.env.vars["RATE_LIMIT_CHECK_INTERVAL"] = text;
    auto c = f.make();
    INFO(text);
    CHECK(c.check_interval().value() == expected);
  }
}

TEST_CASE("parse_duration reads units and refuses junk with the name of what it parsed") {
  CHECK(parse_duration("250ms", "x").value() == 250ms);
  CHECK(parse_duration("1.5", "x").value() == 1500ms);
  CHECK(parse_duration("3us", "x").value() == std::chrono::microseconds(3));
  CHECK(parse_duration("7ns", "x").value() == std::chrono::nanoseconds(7));
  CHECK(parse_duration("2m", "x").value() == 120s);
  CHECK(parse_duration("1h", "x").value() == 3600s);
  CHECK(parse_duration(".5s", "x").value() == 500ms);
  for (const char* junk : {"", "ms", "-1s", "+1s", "1 s", "1.2.3", "5x", "1e3", "99999999999h"}) {
    auto r = parse_duration(junk, "--timeout");
    INFO(junk);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("--timeout") != std::string::npos);
  }
}

TEST_CASE("a relative XDG_CONFIG_HOME is ignored, as the XDG spec requires") {
  fixture f;
  f.env.vars["XDG_CONFIG_HOME"] = "relative/xdg";
  f.env.vars["HOME"] = f.tmp.path().string();
  write(f.tmp.path() / ".config" / "sluice" / "sluice.toml", "[rate_limit]\nbatch_size = 42\n");
  config c(f.bus, f.env.lookup());
  CHECK(c.batch_size().value() == 42);
}

namespace {

bool mentions(const std::string& text, const std::string& word) {
  return text.find(word) != std::string::npos;
}

}  // namespace

TEST_CASE("a sluice.toml others may write is not obeyed, in the bus directory or the user's") {
  for (const bool in_bus : {true, false}) {
    for (const mode_t mode : {mode_t{0666}, mode_t{0664}, mode_t{0646}}) {
      fixture f;
      std::filesystem::create_directories(f.bus);
      const auto file = (in_bus ? f.bus : f.user) / "sluice.toml";
      write(file, "[inbox]\nmax_size = 1\n");
      REQUIRE(::chmod(file.c_str(), mode) == 0);
      INFO(file << " mode " << std::oct << mode);
      auto c = f.make();
      auto size = c.max_inbox_size();
      REQUIRE_FALSE(size);
      CHECK(size.err().code == errc::permission_denied);
      CHECK(mentions(size.err().message, file.string()));
      CHECK(mentions(size.err().message, "chmod go-w"));
    }
  }
}

TEST_CASE("a sluice.toml owned by another user is not obeyed") {
  if (::geteuid() != 0) SLUICE_SKIP("not root: cannot give a file to another user");
  for (const bool in_bus : {true, false}) {
    fixture f;
    std::filesystem::create_directories(f.bus);
    const auto file = (in_bus ? f.bus : f.user) / "sluice.toml";
    write(file, "[metrics]\nfile = \"/tmp/elsewhere.jsonl\"\n");
    REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
    auto c = f.make();
    auto metrics = c.metrics_file();
    REQUIRE_FALSE(metrics);
    CHECK(metrics.err().code == errc::permission_denied);
    CHECK(mentions(metrics.err().message, "belongs to uid 65534"));
  }
}

TEST_CASE("a symlinked sluice.toml is refused in the bus directory, followed for the user's own") {
  fixture f;
  std::filesystem::create_directories(f.bus);
  const auto real = f.tmp.path() / "dotfiles" / "sluice.toml";
  write(real, "[inbox]\nmax_size = 7\n");
  std::filesystem::create_symlink(real, f.bus / "sluice.toml");
  {
    auto c = f.make();
    auto size = c.max_inbox_size();
    REQUIRE_FALSE(size);
    CHECK(size.err().code == errc::path_is_symlink);
  }
  std::filesystem::remove(f.bus / "sluice.toml");
  std::filesystem::create_directories(f.user);
  std::filesystem::create_symlink(real, f.user / "sluice.toml");
  auto c = f.make();
  CHECK(c.max_inbox_size().value() == 7);
}

TEST_CASE("the sluice.toml of a bus directory others may change is not read") {
  fixture f;
  write(f.bus / "sluice.toml", "[inbox]\nmax_size = 1\n");
  REQUIRE(::chmod(f.bus.c_str(), 0777) == 0);
  auto c = f.make();
  auto size = c.max_inbox_size();
  REQUIRE_FALSE(size);
  CHECK(size.err().code == errc::permission_denied);
  CHECK(mentions(size.err().message, "bus directory " + f.bus.string()));
}

TEST_CASE("in a group bus the bus group may write sluice.toml, others still may not") {
  fixture f;
  std::filesystem::create_directories(f.bus);
  REQUIRE(::chmod(f.bus.c_str(), 02770) == 0);
  const auto file = f.bus / "sluice.toml";
  write(file, "[inbox]\nmax_size = 5\n");
  REQUIRE(::chmod(file.c_str(), 0660) == 0);
  CHECK(f.make().max_inbox_size().value() == 5);
  REQUIRE(::chmod(file.c_str(), 0666) == 0);
  auto size = f.make().max_inbox_size();
  REQUIRE_FALSE(size);
  CHECK(size.err().code == errc::permission_denied);
}

TEST_CASE("a sluice.toml that is not a regular file is an error, not a hang") {
  fixture f;
  std::filesystem::create_directories(f.bus);
  REQUIRE(::mkfifo((f.bus / "sluice.toml").c_str(), 0600) == 0);
  auto size = f.make().max_inbox_size();
  REQUIRE_FALSE(size);
  CHECK(mentions(size.err().message, "not a regular file"));
}
