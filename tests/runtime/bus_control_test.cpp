#include "runtime/bus_control.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <vector>

#include "backpressure/token_bucket.hpp"
#include "support/children.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::runtime;
using sluice::test::temp_dir;
namespace fs = std::filesystem;

namespace {

constexpr rate_policy seed{10, 100};

void patch(const fs::path& p, off_t at, const void* bytes, std::size_t n) {
  const int fd = ::open(p.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, bytes, n, at) == static_cast<ssize_t>(n));
  ::close(fd);
}

}  // namespace

TEST_CASE("a new bus.ctl is 0600, holds the initial policy and no load yet") {
  temp_dir tmp;
  auto ctl = bus_control::open_or_create(tmp.path(), seed);
  REQUIRE(ctl);
  struct stat st {};
  REQUIRE(::stat((tmp.path() / "bus.ctl").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(static_cast<std::size_t>(st.st_size) == sizeof(control_block));
  CHECK(ctl->policy().batch_size == 10);
  CHECK(ctl->policy().backpressure_wait_ms == 100);
  CHECK(ctl->load().level == load_level::unknown);
  CHECK(ctl->load().generation == 0);
  CHECK(ctl->heartbeat().pid == 0);
  CHECK_FALSE(fs::exists(tmp.path() / ("bus.ctl.tmp." + std::to_string(::getpid()))));
}

TEST_CASE("a policy published in one mapping is read by every other opener") {
  temp_dir tmp;
  auto writer = bus_control::open_or_create(tmp.path(), seed);
  REQUIRE(writer);
  writer->publish({5, 200}, 870, load_level::high, 1234);
  writer->beat(4242, 5678);

  auto reader = bus_control::open(tmp.path());
  REQUIRE(reader);
  CHECK(reader->policy().batch_size == 5);
  CHECK(reader->policy().backpressure_wait_ms == 200);
  CHECK(reader->load().load_milli == 870);
  CHECK(reader->load().level == load_level::high);
  CHECK(reader->load().updated_ns == 1234);
  CHECK(reader->load().generation == 1);
  CHECK(reader->heartbeat().pid == 4242);
  CHECK(reader->heartbeat().beat_ns == 5678);
  CHECK(read_policy(tmp.path(), seed)->batch_size == 5);
}

TEST_CASE("a published policy expires unless renewed, so a dead monitor's choice does not stick") {
  temp_dir tmp;
  auto ctl = bus_control::open_or_create(tmp.path(), seed);
  REQUIRE(ctl);
  const rate_policy defaults{20, 50};
  ctl->publish({5, 200}, 900, load_level::high, 1000, 500);
  CHECK(ctl->policy_at(1400, defaults).batch_size == 5);
  CHECK(ctl->policy_at(1501, defaults).batch_size == 20);
  CHECK(ctl->policy_at(1501, defaults).backpressure_wait_ms == 50);
  CHECK(ctl->policy().batch_size == 5);  // the raw value is still there for `top`

  ctl->publish({5, 200}, 900, load_level::high, 1000);  // one-shot: until replaced
  CHECK(ctl->policy_at(1'000'000'000'000, defaults).batch_size == 5);

  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  ctl->publish({5, 200}, 900, load_level::high, now - 10'000'000'000, 1'000'000'000);
  CHECK(read_policy(tmp.path(), defaults).value().batch_size == 20);
  ctl->publish({5, 200}, 900, load_level::high, now, 60'000'000'000);
  CHECK(read_policy(tmp.path(), defaults).value().batch_size == 5);
}

TEST_CASE("a reader that finds no bus.ctl uses the configured defaults") {
  temp_dir tmp;
  auto p = read_policy(tmp.path(), {7, 77});
  REQUIRE(p);
  CHECK(p->batch_size == 7);
  CHECK(p->backpressure_wait_ms == 77);
  auto opened = bus_control::open(tmp.path());
  REQUIRE_FALSE(opened);
  CHECK(opened.err().code == errc::not_found);
}

TEST_CASE("bus.ctl with a bad magic, version or size is refused with the reason") {
  temp_dir tmp;
  const fs::path file = tmp.path() / "bus.ctl";
  SECTION("bad magic") {
    REQUIRE(bus_control::open_or_create(tmp.path(), seed));
    patch(file, 0, "NOTSLUIC", 8);
    auto opened = bus_control::open(tmp.path());
    REQUIRE_FALSE(opened);
    CHECK(opened.err().code == errc::bad_magic);
    CHECK(opened.err().message.find("bad magic") != std::string::npos);
    CHECK_FALSE(read_policy(tmp.path(), seed));  // an invalid file is not silently skipped
  }
  SECTION("wrong version") {
    REQUIRE(bus_control::open_or_create(tmp.path(), seed));
    const std::uint32_t v = 99;
    patch(file, offsetof(control_header, version), &v, sizeof(v));
    auto opened = bus_control::open(tmp.path());
    REQUIRE_FALSE(opened);
    CHECK(opened.err().code == errc::wrong_version);
  }
  SECTION("truncated") {
    REQUIRE(bus_control::open_or_create(tmp.path(), seed));
    fs::resize_file(file, 1000);
    auto opened = bus_control::open(tmp.path());
    REQUIRE_FALSE(opened);
    CHECK(opened.err().code == errc::wrong_size);
  }
  SECTION("empty or foreign file") {
    std::ofstream(file) << "hello";
    auto opened = bus_control::open_or_create(tmp.path(), seed);
    REQUIRE_FALSE(opened);
    CHECK(opened.err().code == errc::bad_magic);
  }
  SECTION("geometry from another build") {
    REQUIRE(bus_control::open_or_create(tmp.path(), seed));
    const std::uint32_t buckets = 7;
    patch(file, offsetof(control_header, bucket_count), &buckets, sizeof(buckets));
    auto opened = bus_control::open(tmp.path());
    REQUIRE_FALSE(opened);
    CHECK(opened.err().code == errc::corrupt);
  }
}

TEST_CASE("a symlink named bus.ctl is refused") {
  temp_dir tmp;
  fs::create_directory(tmp.path() / "elsewhere");
  REQUIRE(bus_control::open_or_create(tmp.path() / "elsewhere", seed));
  fs::create_symlink(tmp.path() / "elsewhere" / "bus.ctl", tmp.path() / "bus.ctl");
  auto opened = bus_control::open_or_create(tmp.path(), seed);
  REQUIRE_FALSE(opened);
  CHECK(opened.err().code == errc::path_is_symlink);
}

TEST_CASE("a corrupt policy word in shared memory is clamped into range when read") {
  temp_dir tmp;
  REQUIRE(bus_control::open_or_create(tmp.path(), seed));
  const std::uint64_t junk = 0;  // batch 0, wait 0
  patch(tmp.path() / "bus.ctl", offsetof(control_block, policy), &junk, sizeof(junk));
  auto ctl = bus_control::open(tmp.path());
  REQUIRE(ctl);
  CHECK(ctl->policy().batch_size == 1);
  CHECK(ctl->policy().backpressure_wait_ms == 1);
}

TEST_CASE("an out-of-range initial policy is refused before anything is created") {
  temp_dir tmp;
  CHECK_FALSE(bus_control::open_or_create(tmp.path(), {0, 100}));
  CHECK_FALSE(bus_control::open_or_create(tmp.path(), {10, 0}));
  CHECK_FALSE(fs::exists(tmp.path() / "bus.ctl"));
}

TEST_CASE("processes racing to create bus.ctl all end up on one valid block") {
  temp_dir tmp;
  constexpr int racers = 8;
  sluice::test::child_group children;
  for (int i = 0; i < racers; ++i) {
    children.spawn([&, i] {
      auto ctl = bus_control::open_or_create(tmp.path(), {static_cast<std::uint32_t>(i + 1), 100});
      if (!ctl) return 1;
      // Each racer claims its own bucket key; the table must hand out distinct cells.
      auto idx = ctl->bucket_index(1000 + static_cast<std::uint64_t>(i));
      return idx ? 0 : 2;
    });
  }
  CHECK(children.wait_all() == std::vector<int>(racers, 0));
  auto ctl = bus_control::open(tmp.path());
  REQUIRE(ctl);
  const auto batch = ctl->policy().batch_size;
  CHECK(batch >= 1);
  CHECK(batch <= racers);  // exactly one racer's seed won
  std::set<std::uint32_t> cells;
  for (int i = 0; i < racers; ++i)
    cells.insert(ctl->bucket_index(1000 + static_cast<std::uint64_t>(i)).value());
  CHECK(cells.size() == racers);
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    CHECK(e.path().filename() == "bus.ctl");  // no temp files left behind
  }
}

TEST_CASE("the bucket table finds a key again, keeps keys apart and reports when it is full") {
  temp_dir tmp;
  auto ctl = bus_control::open_or_create(tmp.path(), seed);
  REQUIRE(ctl);
  const auto a = ctl->bucket_index(42);
  const auto b = ctl->bucket_index(42 + rate_bucket_count);  // same home cell, other key
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a != *b);
  CHECK(ctl->bucket_index(42) == a);
  CHECK(reinterpret_cast<std::uintptr_t>(ctl->bucket_cell(*a)) % 64 == 0);
  CHECK(ctl->bucket_cell(rate_bucket_count) == nullptr);
  for (std::uint64_t k = 1; k <= rate_bucket_count; ++k) (void)ctl->bucket_index(k * 7919);
  CHECK_FALSE(ctl->bucket_index(0xdeadbeef));
}

TEST_CASE("a token bucket drained in one process is empty for every other process") {
  temp_dir tmp;
  REQUIRE(bus_control::open_or_create(tmp.path(), seed));
  const sluice::backpressure::rate_limit limit{0.001, 3};  // 3 at once, then one per 1000 s
  const std::int64_t now = 1'000'000'000;
  const pid_t pid = sluice::test::spawn([&] {
    auto ctl = bus_control::open(tmp.path());
    auto* cell = ctl ? ctl->bucket_for(rate_key("alice", "bob")) : nullptr;
    int granted = 0;
    for (int i = 0; cell != nullptr && i < 3; ++i)
      granted += take(*cell, now, limit).allowed ? 1 : 0;
    return granted == 3 ? 0 : 1;
  });
  REQUIRE(sluice::test::reap(pid) == 0);

  auto ctl = bus_control::open(tmp.path());
  REQUIRE(ctl);
  auto* shared = ctl->bucket_for(rate_key("alice", "bob"));
  REQUIRE(shared != nullptr);
  const auto refused = take(*shared, now, limit);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_ms > 0);
  auto* other = ctl->bucket_for(rate_key("alice"));  // the sender-wide bucket is separate
  REQUIRE(other != nullptr);
  CHECK(take(*other, now, limit).allowed);
  CHECK(rate_key("alice", "bob") != rate_key("alice"));
  CHECK(rate_key("a", "b") == rate_key("a", "b"));
}

TEST_CASE("a bus.ctl nobody published a policy into leaves every reader its own configuration") {
  temp_dir tmp;
  // Created by a process configured with BACKPRESSURE_WAIT_MS=100 (init-system, --rate-limit).
  REQUIRE(bus_control::open_or_create(tmp.path(), {10, 100}));
  // A sender configured with BACKPRESSURE_WAIT_MS=7 uses 7, not the creator's 100.
  auto p = read_policy(tmp.path(), {3, 7});
  REQUIRE(p);
  CHECK(p->batch_size == 3);
  CHECK(p->backpressure_wait_ms == 7);
  auto ctl = bus_control::open(tmp.path());
  REQUIRE(ctl);
  CHECK(ctl->origin_at(1) == bus_control::origin::configured);
  // Once the load monitor publishes, its live setting is what senders use, until it expires.
  ctl->publish({5, 200}, 900, load_level::high, 1'000, 500);
  CHECK(ctl->origin_at(1'200) == bus_control::origin::load_monitor);
  CHECK(ctl->policy_at(1'200, {3, 7}).backpressure_wait_ms == 200);
  CHECK(ctl->origin_at(2'000) == bus_control::origin::configured);
  CHECK(ctl->policy_at(2'000, {3, 7}).backpressure_wait_ms == 7);
  // apply-rate-limit's one-shot setting stays until replaced.
  ctl->publish({20, 50}, 100, load_level::low, 3'000, 0);
  CHECK(ctl->origin_at(1'000'000'000) == bus_control::origin::apply_rate_limit);
}
