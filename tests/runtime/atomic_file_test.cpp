// Replacing a file whole (runtime/atomic_file.hpp): its errors are read like every other
// layer's (inbox::errc_of_errno), so a verb that writes a status or metrics file exits with the
// same code as one that creates an inbox in the same place.
#include "runtime/atomic_file.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "support/read_only_mount.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;

TEST_CASE("a file written whole replaces the old content") {
  test::temp_dir dir;
  const auto file = dir.path() / "status.json";
  REQUIRE(runtime::write_file_atomically(file, "old"));
  REQUIRE(runtime::write_file_atomically(file, "new"));
  std::ifstream in(file);
  std::string text;
  std::getline(in, text);
  CHECK(text == "new");
}

TEST_CASE("a file written whole on a read-only filesystem is a permission error") {
  test::temp_dir dir;
  const auto mount = dir.path() / "ro";
  const int code = test::on_read_only_tmpfs(mount, [&] {
    const auto s = runtime::write_file_atomically(mount / "status.json", "{}");
    if (s) return 1;
    return s.err().code == runtime::errc::permission_denied ? 0 : 2;
  });
  CHECK(code == 0);
}

TEST_CASE("a file written whole into a missing directory is not_found") {
  test::temp_dir dir;
  const auto s = runtime::write_file_atomically(dir.path() / "gone" / "status.json", "{}");
  REQUIRE_FALSE(s);
  CHECK(s.err().code == runtime::errc::not_found);
}
