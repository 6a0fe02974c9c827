// send / recv / peek / clear through the real executable: JSON shape, order, delivery.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>

#include "support/cli_checks.hpp"

using namespace sluice::test;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("a sent message is received with every field of the documented JSON shape") {
  bus_fixture bus;
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ok_out(bus, {"send", "alice", "bob", "task", R"({"action":"process","data":"test"})"});
  const auto batch = parse_json(ok_out(bus, {"recv", "bob"}));
  REQUIRE(batch.is_array());
  REQUIRE(batch.size() == 1);
  const auto& m = batch[0];
  CHECK(m.size() == 10);
  CHECK(m.at("version") == 2);
  CHECK(m.at("msg_id").is_string());
  CHECK(m.at("from") == "alice");
  CHECK(m.at("to") == "bob");
  CHECK(m.at("timestamp").is_number_integer());
  CHECK(m.at("timestamp").get<std::int64_t>() >= before);
  CHECK(m.at("sequence").is_number_integer());
  CHECK(m.at("type") == "task");
  CHECK(m.at("priority") == "normal");
  CHECK(m.at("encoding") == "json");
  CHECK(m.at("payload") == json{{"action", "process"}, {"data", "test"}});
}

TEST_CASE("the fields of a message are printed in the documented order") {
  bus_fixture bus;
  ok_out(bus, {"send", "alice", "bob", "task", "x"});
  const auto out = ok_out(bus, {"recv", "bob", "--jsonl"});
  const char* keys[] = {"\"version\"",  "\"msg_id\"", "\"from\"",     "\"to\"",     "\"timestamp\"",
                        "\"sequence\"", "\"type\"",   "\"priority\"", "\"payload\""};
  std::size_t at = 0;
  for (const char* key : keys) {
    const auto found = out.find(key, at);
    INFO(key << " in " << out);
    REQUIRE(found != std::string::npos);
    at = found;
  }
}

TEST_CASE("recv returns messages oldest first and consumes them") {
  bus_fixture bus;
  for (int i = 0; i < 5; ++i) ok_out(bus, {"send", "alice", "bob", "n", std::to_string(i)});
  const auto batch = parse_json(ok_out(bus, {"recv", "bob"}));
  REQUIRE(batch.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(batch[static_cast<std::size_t>(i)].at("payload") == i);
    if (i > 0) {
      CHECK(batch[static_cast<std::size_t>(i)].at("sequence").get<std::uint64_t>() >
            batch[static_cast<std::size_t>(i - 1)].at("sequence").get<std::uint64_t>());
    }
  }
  CHECK(ok_out(bus, {"recv", "bob"}) == "[]\n");
}

TEST_CASE("recv of an empty inbox prints an empty JSON array") {
  bus_fixture bus;
  ok_out(bus, {"init", "bob"});
  CHECK(ok_out(bus, {"recv", "bob"}) == "[]\n");
}

TEST_CASE("a payload that is not JSON is delivered as a JSON string, byte for byte") {
  bus_fixture bus;
  const std::string text = "plain text with \"quotes\", a tab\there and a backslash \\";
  ok_out(bus, {"send", "a", "b", "t", text});
  ok_out(bus, {"send", "a", "b", "t", "{broken json"});
  const auto batch = parse_json(ok_out(bus, {"recv", "b"}));
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].at("payload") == text);
  CHECK(batch[1].at("payload") == "{broken json");
}

TEST_CASE("a JSON payload is embedded exactly as sent: spacing, big integers and key order kept") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", R"({ "z" : 1, "a": [true, null, "s p"] })"});
  ok_out(bus, {"send", "a", "b", "t", "123456789012345678901234567890"});
  const auto out = ok_out(bus, {"recv", "b", "--jsonl"});
  CHECK(out.find(R"("encoding":"json","payload":{ "z" : 1, "a": [true, null, "s p"] }})") !=
        std::string::npos);
  CHECK(out.find(R"("encoding":"json","payload":123456789012345678901234567890})") !=
        std::string::npos);
}

TEST_CASE(
    "JSON with line breaks comes back as text, byte for byte, so a JSON line stays one line") {
  bus_fixture bus;
  const std::string pretty = "{\n  \"z\": 1,\n  \"a\": [true, null]\n}";
  ok_out(bus, {"send", "a", "b", "t", pretty});
  const auto out = ok_out(bus, {"recv", "b", "--jsonl"});
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  const auto m = parse_json(out);
  CHECK(m.at("encoding") == "text");
  CHECK(m.at("payload") == pretty);
}

TEST_CASE("send with - reads the payload from stdin without its trailing newline") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "-"}, "{\"from\":\"stdin\"}\n");
  const auto batch = parse_json(ok_out(bus, {"recv", "b"}));
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].at("payload") == json{{"from", "stdin"}});
}

TEST_CASE("recv --jsonl prints one JSON object per line") {
  bus_fixture bus;
  for (int i = 0; i < 3; ++i) ok_out(bus, {"send", "a", "b", "t", std::to_string(i)});
  std::istringstream lines(ok_out(bus, {"recv", "b", "--jsonl"}));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    CHECK(parse_json(line).at("payload") == n);
    ++n;
  }
  CHECK(n == 3);
}

TEST_CASE("recv --jsonl of an empty inbox prints nothing") {
  bus_fixture bus;
  CHECK(ok_out(bus, {"recv", "b", "--jsonl"}).empty());
}

TEST_CASE("recv --max takes only that many messages and leaves the rest pending") {
  bus_fixture bus;
  for (int i = 0; i < 5; ++i) ok_out(bus, {"send", "a", "b", "t", std::to_string(i)});
  const auto first = parse_json(ok_out(bus, {"recv", "b", "--max", "2"}));
  REQUIRE(first.size() == 2);
  CHECK(first[0].at("payload") == 0);
  CHECK(count_of(bus, "b") == 3);
  const auto rest = parse_json(ok_out(bus, {"recv", "b"}));
  REQUIRE(rest.size() == 3);
  CHECK(rest[0].at("payload") == 2);
}

TEST_CASE("recv --batch auto takes the batch size from the configuration when no monitor ran") {
  bus_fixture bus;
  bus.env["CFN_BATCH_SIZE"] = "3";
  for (int i = 0; i < 5; ++i) ok_out(bus, {"send", "a", "b", "t", std::to_string(i)});
  CHECK(parse_json(ok_out(bus, {"recv", "b", "--batch", "auto"})).size() == 3);
  CHECK(parse_json(ok_out(bus, {"recv", "b", "--batch", "1"})).size() == 1);
}

TEST_CASE("recv into a closed pipe exits 74 and loses nothing") {
  bus_fixture bus;
  for (int i = 0; i < 10; ++i) ok_out(bus, {"send", "a", "b", "t", std::to_string(i)});
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  ::close(fds[0]);  // the reader is gone before sluice writes: `sluice recv b | true`
  auto o = bus.options_for({"recv", "b"});
  o.stdout_fd = fds[1];
  process p(o);
  ::close(fds[1]);
  const auto r = p.finish();
  CHECK(r.exit_code == 74);
  CHECK(is_one_line(r.err));
  const auto again = parse_json(ok_out(bus, {"recv", "b"}));
  REQUIRE(again.size() == 10);
  CHECK(again[0].at("payload") == 0);
  CHECK(again[9].at("payload") == 9);
}

TEST_CASE("recv --wait returns the first message that arrives while it waits") {
  bus_fixture bus;
  ok_out(bus, {"init", "b"});
  auto waiter = bus.start({"recv", "b", "--wait", "30s"});
  ok_out(bus, {"send", "a", "b", "t", "late"});
  const auto r = waiter.finish();
  REQUIRE(r.exit_code == 0);
  const auto batch = parse_json(r.out);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].at("payload") == "late");
}

TEST_CASE("recv --wait on an inbox that stays empty prints an empty array after the wait") {
  bus_fixture bus;
  CHECK(ok_out(bus, {"recv", "b", "--wait", "50ms"}) == "[]\n");
}

TEST_CASE("recv --follow streams messages as lines and commits each batch") {
  bus_fixture bus;
  auto follower = bus.start({"recv", "b", "--follow"});
  for (int i = 0; i < 3; ++i) ok_out(bus, {"send", "a", "b", "t", std::to_string(i)});
  for (int i = 0; i < 3; ++i) {
    const auto line = follower.read_line(std::chrono::seconds(10));
    REQUIRE(line.has_value());
    CHECK(parse_json(*line).at("payload") == i);
  }
  follower.signal(SIGTERM);
  const auto r = follower.finish();
  CHECK(r.exit_code == 0);
  CHECK(count_of(bus, "b") == 0);
}

TEST_CASE("a second consumer is refused with exit 75 while one is attached") {
  bus_fixture bus;
  auto follower = bus.start({"recv", "b", "--follow"});
  ok_out(bus, {"send", "a", "b", "t", "x"});
  REQUIRE(follower.read_line(std::chrono::seconds(10)).has_value());
  const auto r = bus.run({"recv", "b"});
  CHECK(r.exit_code == 75);
  CHECK(is_one_line(r.err));
  follower.signal(SIGINT);
  CHECK(follower.finish().exit_code == 0);
}

TEST_CASE("receive is the same verb as recv and send-backpressure the same as send") {
  bus_fixture bus;
  ok_out(bus, {"send-backpressure", "a", "b", "t", "x"});
  const auto batch = parse_json(ok_out(bus, {"receive", "b"}));
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].at("payload") == "x");
}

TEST_CASE("send prints nothing on success, and --print-id prints the msg_id recv reports") {
  bus_fixture bus;
  CHECK(ok_out(bus, {"send", "a", "b", "t", "x"}).empty());
  const auto id = ok_out(bus, {"send", "a", "b", "t", "y", "--print-id"});
  const auto batch = parse_json(ok_out(bus, {"recv", "b"}));
  REQUIRE(batch.size() == 2);
  CHECK(batch[1].at("msg_id").get<std::string>() + "\n" == id);
  CHECK(batch[0].at("msg_id") != batch[1].at("msg_id"));
}

TEST_CASE("a critical message is received before normal ones sent earlier") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "normal"});
  ok_out(bus, {"send", "a", "b", "t", "urgent", "--priority", "critical"});
  const auto batch = parse_json(ok_out(bus, {"recv", "b"}));
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].at("payload") == "urgent");
  CHECK(batch[0].at("priority") == "critical");
  CHECK(batch[1].at("priority") == "normal");
}

TEST_CASE("a critical message is accepted when the regular slots are full") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "1";
  ok_out(bus, {"send", "a", "b", "t", "fills it"});
  ok_out(bus, {"send", "a", "b", "t", "alarm", "--priority", "critical", "--no-wait"});
  CHECK(count_of(bus, "b") == 2);
}

TEST_CASE("send --no-wait to a full inbox exits 75 at once and sends nothing") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "2";
  ok_out(bus, {"send", "a", "b", "t", "1"});
  ok_out(bus, {"send", "a", "b", "t", "2"});
  const auto r = bus.run({"send", "a", "b", "t", "3", "--no-wait"});
  CHECK(r.exit_code == 75);
  CHECK(is_one_line(r.err));
  CHECK(count_of(bus, "b") == 2);
}

TEST_CASE("send to a full inbox gives up after --timeout with exit 75 and the seed's telemetry") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "1";
  bus.env["BACKPRESSURE_WAIT_MS"] = "5";
  ok_out(bus, {"send", "a", "b", "t", "1"});
  const auto r = bus.run({"send", "a", "b", "t", "2", "--timeout", "50ms"});
  CHECK(r.exit_code == 75);
  CHECK(is_one_line(r.err));
  CHECK(count_of(bus, "b") == 1);
  std::ifstream alerts(bus.dir() / "alerts.jsonl");
  std::string line;
  REQUIRE(std::getline(alerts, line));
  const auto alert = parse_json(line);
  CHECK(alert.at("type") == "inbox_overflow");
  CHECK(alert.at("severity") == "critical");
  CHECK(alert.at("metadata").at("to") == "b");
}

TEST_CASE("repeated exhausted sends open the circuit and the next send fails fast with 69") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "1";
  bus.env["BACKPRESSURE_WAIT_MS"] = "1";
  ok_out(bus, {"send", "a", "b", "t", "fills it"});
  for (int i = 0; i < 5; ++i) {
    CHECK(bus.run({"send", "a", "b", "t", "x", "--timeout", "5ms"}).exit_code == 75);
  }
  const auto r = bus.run({"send", "a", "b", "t", "x", "--timeout", "5s"});
  CHECK(r.exit_code == 69);
  CHECK(is_one_line(r.err));
  const auto stats = parse_json(ok_out(bus, {"get-stats"}));
  CHECK(stats.at(0).at("breaker") == "open");
}

TEST_CASE("send --overflow drop-oldest evicts the oldest message to make room") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "2";
  for (const char* p : {"1", "2", "3"}) {
    ok_out(bus, {"send", "a", "b", "t", p, "--overflow", "drop-oldest"});
  }
  const auto batch = parse_json(ok_out(bus, {"recv", "b"}));
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].at("payload") == 2);
  CHECK(batch[1].at("payload") == 3);
  const auto stats = parse_json(ok_out(bus, {"get-stats"}));
  CHECK(stats.at(0).at("dropped") == 1);
}

TEST_CASE("peek shows pending messages without consuming them") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "1"});
  ok_out(bus, {"send", "a", "b", "t", "2"});
  const auto seen = parse_json(ok_out(bus, {"peek", "b"}));
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].at("payload") == 1);
  CHECK(parse_json(ok_out(bus, {"peek", "b", "--max", "1"})).size() == 1);
  CHECK(count_of(bus, "b") == 2);
  CHECK(parse_json(ok_out(bus, {"recv", "b"})) == seen);
}

TEST_CASE("peek of an inbox that does not exist prints an empty array and creates nothing") {
  bus_fixture bus;
  CHECK(ok_out(bus, {"peek", "ghost"}) == "[]\n");
  CHECK_FALSE(fs::exists(bus.dir()));
}

TEST_CASE("clear drops every pending message and prints how many") {
  bus_fixture bus;
  for (int i = 0; i < 4; ++i) ok_out(bus, {"send", "a", "b", "t", "x"});
  CHECK(ok_out(bus, {"clear", "b"}) == "4\n");
  CHECK(count_of(bus, "b") == 0);
  CHECK(ok_out(bus, {"clear", "ghost"}) == "0\n");
}

TEST_CASE(
    "a sender past its --rate-limit is refused with exit 75 when the next token lies beyond its "
    "budget") {
  bus_fixture bus;
  // One message per 1000 s: the second token is far past the 5 s send budget.
  ok_out(bus, {"send", "a", "b", "t", "1", "--rate-limit", "0.001:1"});
  const auto r = bus.run({"send", "a", "b", "t", "2", "--rate-limit", "0.001:1"});
  CHECK(r.exit_code == 75);
  CHECK(is_one_line(r.err));
  CHECK(r.err.find("rate limit") != std::string::npos);
  CHECK(count_of(bus, "b") == 1);
}

TEST_CASE("a --rate-limit bucket belongs to its sender: other senders are not limited by it") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "1", "--rate-limit", "0.001:1"});
  ok_out(bus, {"send", "c", "b", "t", "2", "--rate-limit", "0.001:1"});
  CHECK(bus.run({"send", "a", "b", "t", "3", "--rate-limit", "0.001:1"}).exit_code == 75);
  CHECK(count_of(bus, "b") == 2);
}

TEST_CASE("a --pair-rate-limit limits one sender -> destination pair only") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "b", "t", "1", "--pair-rate-limit", "0.001:1"});
  ok_out(bus, {"send", "a", "d", "t", "2", "--pair-rate-limit", "0.001:1"});
  CHECK(bus.run({"send", "a", "b", "t", "3", "--pair-rate-limit", "0.001:1"}).exit_code == 75);
  CHECK(count_of(bus, "b") == 1);
  CHECK(count_of(bus, "d") == 1);
}

TEST_CASE(
    "a burst of --rate-limit messages is sent at once, and a sender within its rate waits for "
    "tokens") {
  bus_fixture bus;
  for (int i = 0; i < 3; ++i) ok_out(bus, {"send", "a", "b", "t", "x", "--rate-limit", "0.001:3"});
  CHECK(bus.run({"send", "a", "b", "t", "x", "--rate-limit", "0.001:3"}).exit_code == 75);
  // 50 tokens a second: the next send waits for its token instead of failing.
  ok_out(bus, {"send", "e", "b", "t", "x", "--rate-limit", "50:1"});
  ok_out(bus, {"send", "e", "b", "t", "x", "--rate-limit", "50:1"});
  CHECK(count_of(bus, "b") == 5);
}

TEST_CASE("an invalid --rate-limit is refused with exit 65 before anything is created") {
  bus_fixture bus;
  for (const char* bad : {"abc", "0", "-1", "5:0", "5:x", "nan", "1e12", "5:-2"}) {
    const auto r = bus.run({"send", "a", "b", "t", "1", "--rate-limit", bad});
    INFO(bad);
    CHECK(r.exit_code == 65);
    CHECK(is_one_line(r.err));
  }
  CHECK_FALSE(fs::exists(bus.dir() / "b.inbox"));
}
