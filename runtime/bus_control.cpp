#include "runtime/bus_control.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "inbox/files/bus_directory.hpp"
#include "inbox/files/create_linked.hpp"
#include "inbox/files/std_fds.hpp"
#include "runtime/bus_dir.hpp"

namespace sluice::runtime {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t block_bytes = sizeof(control_block);

// Also create_linked's error callback, which takes exactly these three.
error control_file_error(const fs::path& p, const char* what, int err) {
  return bus_file_error(p, what, err);
}

error invalid_file(errc code, const fs::path& p, const std::string& why) {
  return error{code, fmt::format("{} is not a valid sluice control block ({}); remove it and the "
                                 "load monitor or the next sender recreates it",
                                 p.string(), why)};
}

std::uint64_t pack(std::uint32_t hi, std::uint32_t lo) noexcept {
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

// Maps an open bus.ctl after checking, through pread, that it is one this build understands.
result<inbox::shared_mapping> map_validated(int fd, const fs::path& p) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return control_file_error(p, "inspect", errno);
  if (!S_ISREG(st.st_mode)) return invalid_file(errc::corrupt, p, "not a regular file");
  control_header h{};
  if (static_cast<std::size_t>(st.st_size) < sizeof(h) ||
      ::pread(fd, &h, sizeof(h), 0) != static_cast<ssize_t>(sizeof(h))) {
    return invalid_file(errc::bad_magic, p, "too short for a header");
  }
  if (std::memcmp(h.magic, control_magic, sizeof(control_magic)) != 0) {
    return invalid_file(errc::bad_magic, p, "bad magic");
  }
  if (h.version != control_version) {
    return invalid_file(
        errc::wrong_version, p,
        fmt::format("layout version {}, this build reads {}", h.version, control_version));
  }
  if (h.block_size != block_bytes || h.bucket_count != rate_bucket_count ||
      h.bucket_cell_size != rate_bucket_cell_size) {
    return invalid_file(errc::corrupt, p, "header geometry does not match this build");
  }
  if (static_cast<std::size_t>(st.st_size) != block_bytes) {
    return invalid_file(errc::wrong_size, p,
                        fmt::format("{} bytes, expected {}", st.st_size, block_bytes));
  }
  inbox::shared_mapping map;
  if (!map.map(fd, block_bytes)) return control_file_error(p, "map", errno);
  return map;
}

// Writes a complete, valid block into a fresh file. posix_fallocate, not ftruncate: a sparse
// file on a full tmpfs would kill the process with SIGBUS at the first store below.
status initialise(int fd, const fs::path& p, const rate_policy& initial) {
  int err = 0;
  do {
    err = ::posix_fallocate(fd, 0, static_cast<off_t>(block_bytes));
  } while (err == EINTR);
  if (err != 0) return control_file_error(p, "reserve memory for", err);
  void* mem = ::mmap(nullptr, block_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) return control_file_error(p, "map", errno);
  auto* block = static_cast<control_block*>(mem);
  std::memcpy(block->header.magic, control_magic, sizeof(control_magic));
  block->header.version = control_version;
  block->header.block_size = static_cast<std::uint32_t>(block_bytes);
  block->header.bucket_count = rate_bucket_count;
  block->header.bucket_cell_size = rate_bucket_cell_size;
  block->header.created_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  block->header.creator_pid = static_cast<std::int32_t>(::getpid());
  block->policy.batch_and_wait.store(pack(initial.batch_size, initial.backpressure_wait_ms));
  block->policy.load_and_level.store(pack(0, static_cast<std::uint32_t>(load_level::unknown)));
  ::munmap(mem, block_bytes);
  return done{};
}

}  // namespace

bus_control::bus_control(inbox::shared_mapping map, fs::path path) noexcept
    : map_(std::move(map)),
      block_(reinterpret_cast<control_block*>(map_.data())),
      path_(std::move(path)) {}

bus_control::bus_control(bus_control&& o) noexcept = default;
bus_control& bus_control::operator=(bus_control&& o) noexcept = default;
bus_control::~bus_control() = default;

result<bus_control> bus_control::open(const fs::path& dir) {
  if (!inbox::ensure_std_fds_open())
    return error{errc::io_error, "descriptors 0-2 are closed and /dev/null cannot be opened"};
  fs::path p = dir / control_file_name;
  const int fd = ::open(p.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return control_file_error(p, "open", errno);
  auto mapped = map_validated(fd, p);
  ::close(fd);  // the mapping keeps the file
  if (!mapped) return mapped.err();
  return bus_control(std::move(mapped.value()), std::move(p));
}

result<bus_control> bus_control::open_or_create(const fs::path& dir, const rate_policy& initial) {
  if (initial.batch_size == 0 || initial.batch_size > max_batch_size ||
      initial.backpressure_wait_ms == 0 ||
      initial.backpressure_wait_ms > max_backpressure_wait_ms) {
    return error{errc::invalid_argument,
                 fmt::format("initial policy batch {} / wait {} ms is out of range (1..{}, 1..{})",
                             initial.batch_size, initial.backpressure_wait_ms, max_batch_size,
                             max_backpressure_wait_ms)};
  }
  auto existing = open(dir);
  if (existing || existing.err().code != errc::not_found) return existing;

  // 0660 in a group bus: every member's sends read the policy and take rate-limit tokens.
  auto made = inbox::create_linked(
      dir / control_file_name, inbox::bus_file_mode(dir),
      {[&](int fd, const fs::path& p) { return initialise(fd, p, initial); }, control_file_error});
  if (!made) return made.err();
  return open(dir);
}

rate_policy bus_control::policy() const noexcept {
  const std::uint64_t word = block_->policy.batch_and_wait.load();
  // Shared memory is not trusted: a corrupt word is clamped into the accepted ranges.
  const auto batch = static_cast<std::uint32_t>(word >> 32);
  const auto wait = static_cast<std::uint32_t>(word & 0xffffffffu);
  return rate_policy{std::clamp<std::uint32_t>(batch, 1, max_batch_size),
                     std::clamp<std::uint32_t>(wait, 1, max_backpressure_wait_ms)};
}

rate_policy bus_control::policy_at(std::int64_t now_ns,
                                   const rate_policy& defaults) const noexcept {
  // Nothing published yet: the block only holds what its creator was configured with, which
  // says nothing about this caller's configuration.
  if (block_->policy.generation.load() == 0) return defaults;
  const rate_policy published = policy();  // before the deadline: see publish()
  const std::int64_t until = block_->policy.valid_until_ns.load();
  if (until != 0 && now_ns > until) return defaults;
  return published;
}

bus_control::origin bus_control::origin_at(std::int64_t now_ns) const noexcept {
  if (block_->policy.generation.load() == 0) return origin::configured;
  const std::int64_t until = block_->policy.valid_until_ns.load();
  if (until == 0) return origin::apply_rate_limit;  // a one-shot setting, kept until replaced
  return now_ns > until ? origin::configured : origin::load_monitor;
}

rate_policy bus_control::policy_now(const rate_policy& defaults) const noexcept {
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  return policy_at(now, defaults);
}

load_reading bus_control::load() const noexcept {
  const std::uint64_t word = block_->policy.load_and_level.load();
  auto level = static_cast<std::uint32_t>(word & 0xffffffffu);
  if (level > static_cast<std::uint32_t>(load_level::high)) level = 0;
  return load_reading{static_cast<std::uint32_t>(word >> 32), static_cast<load_level>(level),
                      block_->policy.updated_ns.load(), block_->policy.generation.load()};
}

void bus_control::publish(const rate_policy& p, std::uint32_t load_milli, load_level level,
                          std::int64_t now_ns, std::int64_t valid_for_ns) noexcept {
  // Deadline before policy, and policy_at reads them in the opposite order, so a reader that
  // sees the new policy also sees its deadline (seq_cst: one total order of these accesses).
  block_->policy.valid_until_ns.store(valid_for_ns > 0 ? now_ns + valid_for_ns : 0);
  block_->policy.batch_and_wait.store(
      pack(std::clamp<std::uint32_t>(p.batch_size, 1, max_batch_size),
           std::clamp<std::uint32_t>(p.backpressure_wait_ms, 1, max_backpressure_wait_ms)));
  block_->policy.load_and_level.store(pack(load_milli, static_cast<std::uint32_t>(level)));
  block_->policy.updated_ns.store(now_ns);
  block_->policy.generation.fetch_add(1);
}

void bus_control::beat(std::int32_t pid, std::int64_t now_ns) noexcept {
  block_->heartbeat.monitor_pid.store(pid);
  block_->heartbeat.beat_ns.store(now_ns);
}

monitor_heartbeat bus_control::heartbeat() const noexcept {
  return monitor_heartbeat{block_->heartbeat.monitor_pid.load(), block_->heartbeat.beat_ns.load()};
}

std::optional<std::uint32_t> bus_control::bucket_index(std::uint64_t key) noexcept {
  if (key == 0) key = 1;  // 0 marks a free cell
  const std::uint32_t start = static_cast<std::uint32_t>(key % rate_bucket_count);
  for (std::uint32_t i = 0; i < rate_bucket_count; ++i) {
    const std::uint32_t at = (start + i) % rate_bucket_count;
    auto& slot = block_->bucket_keys[at];
    std::uint64_t seen = slot.load();
    if (seen == 0 && slot.compare_exchange_strong(seen, key)) return at;
    if (seen == key) return at;  // ours, or claimed for the same key by another process
  }
  return std::nullopt;
}

static_assert(sizeof(backpressure::token_bucket_cell) <= rate_bucket_cell_size);
static_assert(alignof(backpressure::token_bucket_cell) <= cache_line_size);
static_assert(offsetof(control_block, bucket_cells) % alignof(backpressure::token_bucket_cell) ==
              0);

backpressure::token_bucket_cell* bus_control::bucket_cell(std::uint32_t index) noexcept {
  if (index >= rate_bucket_count) return nullptr;
  // The storage is shared memory that every process maps; a zero-filled cell is a valid
  // bucket by token_bucket_cell's contract, so no constructor ever runs on it.
  return reinterpret_cast<backpressure::token_bucket_cell*>(block_->bucket_cells[index]);
}

backpressure::token_bucket_cell* bus_control::bucket_for(std::uint64_t key) noexcept {
  const auto index = bucket_index(key);
  return index ? bucket_cell(*index) : nullptr;
}

std::uint64_t rate_key(std::string_view from) noexcept {
  return rate_key(from, {});
}

std::uint64_t rate_key(std::string_view from, std::string_view to) noexcept {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a offset basis
  const auto mix = [&h](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;  // FNV prime
    }
  };
  mix(from);
  if (!to.empty()) {
    mix("->");  // '>' is not allowed in names, so a pair never hashes the text of one name
    mix(to);
  }
  return h;
}

const fs::path& bus_control::path() const noexcept {
  return path_;
}

result<rate_policy> configured_policy(config& c) {
  auto batch = c.batch_size();
  if (!batch) return batch.err();
  auto wait = c.backpressure_wait();
  if (!wait) return wait.err();
  return rate_policy{*batch, static_cast<std::uint32_t>(wait->count())};
}

result<rate_policy> read_policy(const fs::path& dir, const rate_policy& defaults) {
  auto ctl = bus_control::open(dir);
  if (ctl) return ctl->policy_now(defaults);
  if (ctl.err().code == errc::not_found) return defaults;
  return ctl.err();
}

}  // namespace sluice::runtime
