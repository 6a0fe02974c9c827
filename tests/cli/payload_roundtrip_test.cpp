// Payloads round-trip byte for byte through the real executable: random byte strings of every
// length from 0 to the largest a slot takes, sent with `send --raw ... -` and read back both as
// netstrings and as JSON, where each message says how its payload is encoded.
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "support/children.hpp"
#include "support/cli_checks.hpp"

using namespace sluice::test;

namespace {

constexpr std::size_t max_payload = 4096 - 136;

std::string base64_decode(const std::string& in) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '=') break;
    const auto v = alphabet.find(c);
    REQUIRE(v != std::string::npos);
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// The payload of one JSON line, as bytes, decoded by the line's encoding.
std::string payload_of(const std::string& line) {
  const auto j = nlohmann::json::parse(line);
  const std::string encoding = j.at("encoding");
  if (encoding == "text") return j.at("payload").get<std::string>();
  if (encoding == "base64") return base64_decode(j.at("payload").get<std::string>());
  REQUIRE(encoding == "json");
  // Exactly as sent: the text between "payload": and the object's closing brace.
  const std::string key = "\"payload\":";
  const auto at = line.find(key);
  REQUIRE(at != std::string::npos);
  return line.substr(at + key.size(), line.size() - (at + key.size()) - 1);
}

// Netstrings back into payloads; fails the test on a malformed one.
std::vector<std::string> parse_netstrings(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto colon = text.find(':', at);
    REQUIRE(colon != std::string::npos);
    const auto n = std::stoull(text.substr(at, colon - at));
    REQUIRE(colon + 1 + n < text.size());
    out.push_back(text.substr(colon + 1, n));
    REQUIRE(text[colon + 1 + n] == ',');
    at = colon + 2 + n;
  }
  return out;
}

// A payload of n bytes of one of the shapes users send: any bytes, printable text, UTF-8 text,
// or JSON with spaces (the shapes exercise every encoding).
std::string make_payload(std::size_t n, std::mt19937& rng) {
  std::string s;
  switch (rng() % 4) {
    case 0:
      for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(rng() & 0xFF);
      return s;
    case 1:
      for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(' ' + rng() % 95);
      return s;
    case 2:
      while (s.size() + 3 <= n) s += (rng() % 2) ? "\xC3\xA9" : "\xE2\x82\xAC";  // e-acute, euro
      while (s.size() < n) s += 'x';
      return s;
    default:
      if (n < 2) return std::string(n, '7');
      s = "[";
      while (s.size() + 4 < n) s += "1, ";
      while (s.size() + 1 < n) s += ' ';
      s += ']';
      return s;
  }
}

}  // namespace

TEST_CASE("random payloads of every length up to the maximum come back byte for byte", "[stress]") {
  bus_fixture bus;
  bus.env["MAX_INBOX_SIZE"] = "1000";
  std::mt19937 rng(20261206);
  // Every length in the plain build. Under the sanitizers, which make each process ~30 times
  // slower to start, the first and last 16 lengths and every 29th between them.
  const std::size_t stride = sanitized ? 29 : 1;
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= max_payload; ++n)
    if (n % stride == 0 || n < 16 || n + 16 > max_payload) lengths.push_back(n);
  std::vector<std::string> sent;
  auto check_batch = [&] {
    // Half the batch read as netstrings, half as JSON lines: both forms see every shape.
    const auto half = std::to_string(sent.size() / 2);
    const auto raw = parse_netstrings(ok_out(bus, {"recv", "w", "--netstring", "--max", half}));
    std::vector<std::string> got = raw;
    std::istringstream lines(ok_out(bus, {"recv", "w", "--jsonl"}));
    for (std::string line; std::getline(lines, line);) got.push_back(payload_of(line));
    REQUIRE(got.size() == sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
      INFO("message " << i << ", " << sent[i].size() << " bytes");
      CHECK(got[i] == sent[i]);
    }
    sent.clear();
  };
  for (const std::size_t n : lengths) {
    sent.push_back(make_payload(n, rng));
    ok_out(bus, {"send", "--raw", "a", "w", "t", "-"}, sent.back());
    if (sent.size() == 500) check_batch();
  }
  if (!sent.empty()) check_batch();
}

TEST_CASE("each message says how its payload is encoded: json, text or base64") {
  bus_fixture bus;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hello", "text"},
      {"\"hello\"", "json"},
      {"{ \"k\" : [1, 2] }", "json"},
      {"{\n  \"k\": 1\n}", "text"},
      {"12345678901234567890123", "json"},
      {"", "text"},
      {std::string("\xff\xfe", 2), "base64"},
      {std::string("a\0b", 3), "text"}};
  for (const auto& [payload, encoding] : cases) {
    ok_out(bus, {"send", "--raw", "a", "w", "t", "-"}, payload);
    const auto line = ok_out(bus, {"recv", "w", "--jsonl"});
    INFO(line);
    CHECK(nlohmann::json::parse(line).at("encoding") == encoding);
    CHECK(payload_of(line.substr(0, line.size() - 1)) == payload);
  }
}

TEST_CASE("recv --raw prints the payloads NUL-terminated and refuses one that holds a NUL") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "w", "t", "one"});
  ok_out(bus, {"send", "a", "w", "t", "two words"});
  CHECK(ok_out(bus, {"recv", "w", "--raw"}) == std::string("one\0two words\0", 14));
  ok_out(bus, {"send", "--raw", "a", "w", "t", "-"}, std::string("x\0y", 3));
  const auto r = bus.run({"recv", "w", "--raw"});
  CHECK(r.exit_code == 65);
  CHECK(is_one_line(r.err));
  CHECK(count_of(bus, "w") == 1);  // nothing consumed
}

TEST_CASE("send - removes one trailing newline unless --raw") {
  bus_fixture bus;
  ok_out(bus, {"send", "a", "w", "t", "-"}, "line\n");
  ok_out(bus, {"send", "--raw", "a", "w", "t", "-"}, "line\n");
  CHECK(ok_out(bus, {"recv", "w", "--netstring"}) == "4:line,5:line\n,");
}
