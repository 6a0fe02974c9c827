// Reading files the way sluice opens them: whole and bounded, or the tail of a log from a
// line boundary.
#include "inbox/files/read_file.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <fstream>
#include <string>

#include "support/temp_dir.hpp"

using sluice::inbox::read_file;
using sluice::inbox::read_file_tail;

namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("read_file returns a file up to its bound and refuses a larger one") {
  sluice::test::temp_dir dir;
  write(dir.path() / "f", "hello\n");
  CHECK(read_file(dir.path() / "f", 6).text == "hello\n");
  const auto too_big = read_file(dir.path() / "f", 5);
  CHECK(too_big.error == EFBIG);
  CHECK(too_big.text.empty());
  CHECK(read_file(dir.path() / "missing", 10).error == ENOENT);
}

TEST_CASE("read_file_tail returns whole lines from the end of a long log") {
  sluice::test::temp_dir dir;
  std::string log;
  for (int i = 0; i < 1000; ++i) log += "line " + std::to_string(i) + "\n";
  write(dir.path() / "log", log);
  const auto tail = read_file_tail(dir.path() / "log", 100);
  REQUIRE(tail.error == 0);
  CHECK(tail.text.size() <= 100);
  CHECK(tail.text.rfind("line ", 0) == 0);  // starts at a line, not inside one
  CHECK(tail.text.size() >= 100 - std::string("line 999\n").size());
  CHECK(log.compare(log.size() - tail.text.size(), tail.text.size(), tail.text) == 0);
}

TEST_CASE("read_file_tail of a file shorter than the tail is the whole file") {
  sluice::test::temp_dir dir;
  write(dir.path() / "log", "a\nb\n");
  CHECK(read_file_tail(dir.path() / "log", 100).text == "a\nb\n");
  CHECK(read_file_tail(dir.path() / "missing", 100).error == ENOENT);
}
