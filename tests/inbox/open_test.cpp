// Creating and opening inbox files: permissions, symlinks, and headers that cannot be trusted.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>

#include "inbox/files/bus_directory.hpp"
#include "inbox/inbox.hpp"
#include "inbox/layout.hpp"
#include "messages.hpp"
#include "support/children.hpp"
#include "support/read_only_mount.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::inbox;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Overwrites bytes of an existing file in place.
void poke(const fs::path& p, std::size_t offset, const void* bytes, std::size_t n) {
  const int fd = ::open(p.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, bytes, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n));
  ::close(fd);
}

fs::path make_inbox(const sluice::test::temp_bus& bus, create_options opts = {}) {
  auto r = inbox::open_or_create(bus.dir(), "a", opts);
  REQUIRE(r);
  return r->path();
}

}  // namespace

TEST_CASE("a new inbox file is 0600 in a 0700 bus directory") {
  sluice::test::temp_bus bus;
  const fs::path p = make_inbox(bus);
  CHECK(p == bus.dir() / "a.inbox");
  CHECK(mode_of(p) == 0600);
  CHECK(mode_of(bus.dir()) == 0700);
}

TEST_CASE("the group mode from create_options is applied despite the umask") {
  sluice::test::temp_bus bus;
  create_options opts;
  opts.mode = 0660;
  const mode_t old = ::umask(077);
  const fs::path p = make_inbox(bus, opts);
  ::umask(old);
  CHECK(mode_of(p) == 0660);
}

TEST_CASE("creation leaves no temporary file behind") {
  sluice::test::temp_bus bus;
  make_inbox(bus);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(bus.dir())) {
    if (e.path().filename() == bus_marker_name) continue;  // every bus has it
    ++files;
    CHECK(e.path().filename() == "a.inbox");
  }
  CHECK(files == 1);
}

TEST_CASE("an existing inbox keeps its geometry when opened with other options") {
  sluice::test::temp_bus bus;
  create_options small;
  small.capacity = 8;
  small.slot_size = 512;
  make_inbox(bus, small);
  auto again = inbox::open_or_create(bus.dir(), "a");
  REQUIRE(again);
  CHECK(again->capacity() == 8);
  CHECK(again->snapshot().slot_size == 512);
}

TEST_CASE("geometry out of range is refused at creation and nothing is created") {
  sluice::test::temp_bus bus;
  for (auto opts :
       {create_options{0, 64, 4096, 0600}, create_options{1000, 0, 4096, 0600},
        create_options{1000, 64, 100, 0600}, create_options{1000, 64, 4100, 0600},
        create_options{1u << 21, 64, 4096, 0600}, create_options{1000, 64, 4096, 0400}}) {
    auto r = inbox::open_or_create(bus.dir(), "a", opts);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::invalid_argument);
  }
  // The bus directory may be made (with its marker), but no inbox and no temp file.
  for (const auto& e : fs::directory_iterator(bus.dir()))
    CHECK(e.path().filename() == bus_marker_name);
}

TEST_CASE("opening a missing inbox answers not_found and creates nothing") {
  sluice::test::temp_bus bus;
  fs::create_directory(bus.dir());
  auto r = inbox::open(bus.dir(), "nobody");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::not_found);
  CHECK(fs::is_empty(bus.dir()));
}

TEST_CASE("a symlinked inbox file is refused, not followed") {
  sluice::test::temp_bus bus;
  make_inbox(bus);
  fs::create_symlink(bus.dir() / "a.inbox", bus.dir() / "b.inbox");
  auto r = inbox::open(bus.dir(), "b");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::path_is_symlink);
  auto c = inbox::open_or_create(bus.dir(), "b");
  REQUIRE_FALSE(c);
  CHECK(c.err().code == errc::path_is_symlink);
}

TEST_CASE("a symlinked bus directory is refused, not followed") {
  sluice::test::temp_bus bus;
  make_inbox(bus);
  const fs::path link = bus.root() / "link";
  fs::create_directory_symlink(bus.dir(), link);
  auto r = inbox::open(link, "a");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::path_is_symlink);
}

TEST_CASE("a file that is not an inbox is refused with bad_magic") {
  sluice::test::temp_bus bus;
  fs::create_directory(bus.dir());
  std::ofstream(bus.dir() / "a.inbox") << std::string(8192, 'x');
  ::chmod((bus.dir() / "a.inbox").c_str(), 0600);
  auto r = inbox::open(bus.dir(), "a");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::bad_magic);
  CHECK(r.err().message.find("not a sluice inbox") != std::string::npos);
}

TEST_CASE("an inbox with another layout version is refused with wrong_version") {
  sluice::test::temp_bus bus;
  const fs::path p = make_inbox(bus);
  const std::uint32_t v = 99;
  poke(p, offsetof(layout::identity, layout_version), &v, sizeof v);
  auto r = inbox::open(bus.dir(), "a");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::wrong_version);
}

TEST_CASE("a truncated inbox file is refused with wrong_size") {
  sluice::test::temp_bus bus;
  const fs::path p = make_inbox(bus);
  SECTION("cut inside the slots") {
    fs::resize_file(p, fs::file_size(p) - 4096);
  }
  SECTION("cut inside the header") {
    fs::resize_file(p, 100);
  }
  auto r = inbox::open(bus.dir(), "a");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::wrong_size);
}

TEST_CASE("a header whose geometry lies is refused with corrupt") {
  sluice::test::temp_bus bus;
  const fs::path p = make_inbox(bus);
  SECTION("capacity bigger than the file") {
    const std::uint32_t cap = 100000;
    poke(p, offsetof(layout::identity, capacity), &cap, sizeof cap);
  }
  SECTION("slot size not a multiple of 64") {
    const std::uint32_t slot = 4095;
    poke(p, offsetof(layout::identity, slot_size), &slot, sizeof slot);
  }
  SECTION("ring size not matching the capacity") {
    const std::uint32_t ring = 4;
    poke(p, offsetof(layout::identity, ring_size), &ring, sizeof ring);
  }
  auto r = inbox::open(bus.dir(), "a");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::corrupt);
}

TEST_CASE("lane indexes that lie are refused when a consumer attaches") {
  sluice::test::temp_bus bus;
  const fs::path p = make_inbox(bus);
  const std::uint64_t head = 5000;  // head beyond tail
  // The normal lane's head in the current (first) commit record of a fresh inbox.
  poke(p, offsetof(layout::header, commits) + sizeof(std::uint64_t), &head, sizeof head);
  auto in = inbox::open(bus.dir(), "a");
  REQUIRE(in);
  auto c = in->attach_consumer();
  REQUIRE_FALSE(c);
  CHECK(c.err().code == errc::corrupt);
}

TEST_CASE("an inbox of another user is refused with permission_denied") {
  sluice::test::temp_bus bus;
  const fs::path p = make_inbox(bus);
  // Open it as a different user: as root, drop to nobody in a child; otherwise remove our
  // own access to the file.
  const pid_t child = sluice::test::spawn([&] {
    if (::geteuid() == 0) {
      ::chmod(bus.root().c_str(), 0755);
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 3;
    } else {
      ::chmod(p.c_str(), 0);
    }
    auto r = inbox::open(bus.dir(), "a");
    return !r && r.err().code == errc::permission_denied ? 0 : 1;
  });
  CHECK(sluice::test::reap(child) == 0);
}

TEST_CASE("every layer reads an errno the same way and EROFS is a permission error") {
  CHECK(errc_of_errno(EACCES) == errc::permission_denied);
  CHECK(errc_of_errno(EPERM) == errc::permission_denied);
  CHECK(errc_of_errno(EROFS) == errc::permission_denied);
  CHECK(errc_of_errno(ENOSPC) == errc::no_space);
  CHECK(errc_of_errno(EDQUOT) == errc::no_space);
  CHECK(errc_of_errno(EFBIG) == errc::no_space);
  CHECK(errc_of_errno(ELOOP) == errc::path_is_symlink);
  CHECK(errc_of_errno(ENOENT) == errc::not_found);
  CHECK(errc_of_errno(EIO) == errc::io_error);
}

TEST_CASE("an inbox on a read-only filesystem is refused as a permission error in one line") {
  sluice::test::temp_bus bus;
  const int code = sluice::test::on_read_only_tmpfs(bus.dir(), [&] {
    auto r = inbox::open_or_create(bus.dir(), "a");
    if (r) return 1;
    if (r.err().message.find('\n') != std::string::npos) return 2;
    if (r.err().message.find("Read-only file system") == std::string::npos) return 3;
    return r.err().code == errc::permission_denied ? 0 : 4;
  });
  CHECK(code == 0);
}
