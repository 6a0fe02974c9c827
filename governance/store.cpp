#include "governance/store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "governance/clock.hpp"
#include "inbox/files/bus_directory.hpp"
#include "inbox/files/create_linked.hpp"
#include "inbox/files/std_fds.hpp"
#include "runtime/bus_dir.hpp"

namespace sluice::governance {
namespace {

namespace fs = std::filesystem;
using runtime::errc;
using runtime::error;
constexpr std::size_t file_bytes = sizeof(layout::file);

error os_error(const fs::path& p, const char* what, int err) {
  return runtime::bus_file_error(p, what, err, " (no policy applied: sluice policy apply FILE)");
}

error invalid_file(errc code, const fs::path& p, const std::string& why) {
  return error{code, fmt::format("{} is not a valid sluice policy file ({}); remove it and apply "
                                 "the policy again (sluice policy apply FILE)",
                                 p.string(), why)};
}

runtime::result<inbox::shared_mapping> map_validated(int fd, const fs::path& p) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error(p, "inspect", errno);
  if (!S_ISREG(st.st_mode)) return invalid_file(errc::corrupt, p, "not a regular file");
  if (st.st_uid != ::geteuid() && ::geteuid() != 0 && (st.st_mode & 0060) == 0)
    return error{
        errc::permission_denied,
        fmt::format("{} belongs to another user; remove it or use your own bus", p.string())};
  layout::header h{};
  if (static_cast<std::size_t>(st.st_size) < sizeof(h) ||
      ::pread(fd, &h, sizeof(h), 0) != static_cast<ssize_t>(sizeof(h)))
    return invalid_file(errc::bad_magic, p, "too short for a header");
  if (std::memcmp(h.magic, layout::magic, sizeof(layout::magic)) != 0)
    return invalid_file(errc::bad_magic, p, "bad magic");
  if (h.version != layout::layout_version)
    return invalid_file(
        errc::wrong_version, p,
        fmt::format("layout version {}, this build reads {}", h.version, layout::layout_version));
  if (h.file_size != file_bytes || h.rule_states != layout::rule_state_count ||
      h.limit_states != layout::limit_state_count || h.cells != layout::cell_count ||
      h.ledger_entries != layout::ledger_count || h.buffer_words != layout::buffer_words)
    return invalid_file(errc::corrupt, p, "header geometry does not match this build");
  if (static_cast<std::size_t>(st.st_size) != file_bytes)
    return invalid_file(errc::wrong_size, p,
                        fmt::format("{} bytes, expected {}", st.st_size, file_bytes));
  inbox::shared_mapping map;
  if (!map.map(fd, file_bytes)) return os_error(p, "map", errno);
  return map;
}

runtime::status initialise(int fd, const fs::path& p) {
  int err = 0;
  do {
    err = ::posix_fallocate(fd, 0, static_cast<off_t>(file_bytes));
  } while (err == EINTR);
  if (err != 0) return os_error(p, "reserve memory for", err);
  layout::header h{};
  std::memcpy(h.magic, layout::magic, sizeof(h.magic));
  h.version = layout::layout_version;
  h.file_size = static_cast<std::uint32_t>(file_bytes);
  h.rule_states = layout::rule_state_count;
  h.limit_states = layout::limit_state_count;
  h.cells = layout::cell_count;
  h.ledger_entries = layout::ledger_count;
  h.buffer_words = layout::buffer_words;
  h.creator_pid = static_cast<std::int32_t>(::getpid());
  h.created_ns = realtime_ns();
  if (::pwrite(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h))
    return os_error(p, "write", errno);
  return runtime::done{};
}

// flock(2) on the file for the length of one apply; released by the kernel if we die.
class apply_lock {
 public:
  explicit apply_lock(const fs::path& p) : fd_(::open(p.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC)) {
    if (fd_ >= 0) {
      int r = 0;
      do {
        r = ::flock(fd_, LOCK_EX);
      } while (r != 0 && errno == EINTR);
      if (r != 0) {
        ::close(fd_);
        fd_ = -1;
      }
    }
  }
  ~apply_lock() {
    if (fd_ >= 0) ::close(fd_);
  }
  apply_lock(const apply_lock&) = delete;
  apply_lock& operator=(const apply_lock&) = delete;
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace

std::optional<std::uint32_t> claim_slot(std::atomic<std::uint64_t>* first_key,
                                        std::size_t stride_bytes, std::uint32_t count,
                                        std::uint64_t key) noexcept {
  auto at = [&](std::uint32_t i) {
    return reinterpret_cast<std::atomic<std::uint64_t>*>(reinterpret_cast<char*>(first_key) +
                                                         i * stride_bytes);
  };
  const std::uint32_t start = static_cast<std::uint32_t>(key % count);
  for (std::uint32_t n = 0; n < count; ++n) {
    const std::uint32_t i = (start + n) % count;
    std::uint64_t seen = at(i)->load(std::memory_order_acquire);
    if (seen == key) return i;
    if (seen == 0) {
      if (at(i)->compare_exchange_strong(seen, key, std::memory_order_acq_rel)) return i;
      if (seen == key) return i;
    }
  }
  return std::nullopt;
}

store::store(inbox::shared_mapping map, fs::path path) noexcept
    : map_(std::move(map)),
      file_(reinterpret_cast<layout::file*>(map_.data())),
      path_(std::move(path)) {}
store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;
store::~store() = default;

runtime::result<store> store::open(const fs::path& dir) {
  if (!inbox::ensure_std_fds_open())
    return error{errc::io_error, "descriptors 0-2 are closed and /dev/null cannot be opened"};
  fs::path p = dir / policy_file_name;
  const int fd = ::open(p.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return os_error(p, "open", errno);
  auto mapped = map_validated(fd, p);
  ::close(fd);
  if (!mapped) return mapped.err();
  return store(std::move(mapped.value()), std::move(p));
}

runtime::result<store> store::open_or_create(const fs::path& dir) {
  auto existing = open(dir);
  if (existing || existing.err().code != errc::not_found) return existing;
  auto made = inbox::create_linked(dir / policy_file_name, inbox::bus_file_mode(dir),
                                   {initialise, os_error});
  if (!made) return made.err();
  return open(dir);
}

std::uint64_t store::generation() const noexcept {
  return file_->ctl.published.load(std::memory_order_acquire) >> 1;
}

runtime::result<std::uint64_t> store::apply(const policy& p, const std::string& source) {
  apply_lock lock(path_);
  if (!lock.held()) return os_error(path_, "lock", errno);
  layout::file& f = *file_;
  state_slots slots;
  for (const rule& r : p.rules) {
    auto slot = claim_slot(&f.rules[0].key, sizeof(layout::rule_state), layout::rule_state_count,
                           hash_name(r.name));
    if (!slot)
      return error{errc::no_space,
                   "every rule state of " + path_.string() +
                       " is taken by earlier rule names; remove the file and apply again"};
    slots.rules.push_back(*slot);
  }
  for (const limit_def& l : p.limits) {
    auto slot = claim_slot(&f.limits[0].key, sizeof(layout::limit_state), layout::limit_state_count,
                           hash_name(l.name));
    if (!slot)
      return error{errc::no_space,
                   "every limit state of " + path_.string() +
                       " is taken by earlier limit names; remove the file and apply again"};
    slots.limits.push_back(*slot);
  }
  // A limiter whose parameters changed starts afresh: its old word means something else.
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    auto& st = f.rules[slots.rules[i]];
    const std::uint64_t fp = p.rules[i].limit ? fingerprint(*p.rules[i].limit, p.rules[i].per) : 1;
    if (st.fingerprint.load() != fp) {
      st.word.store(0);
      st.fingerprint.store(fp);
    }
  }
  for (std::size_t i = 0; i < p.limits.size(); ++i) {
    const limit_def& l = p.limits[i];
    auto& st = f.limits[slots.limits[i]];
    std::uint64_t fp = hash_name(l.name);
    if (l.rate) fp ^= fingerprint(*l.rate, scope::rule);
    if (l.cost_rate) fp ^= fingerprint(*l.cost_rate, scope::from) * 3;
    if (st.fingerprint.load() != fp) {
      st.rate_word.store(0);
      st.cost_word.store(0);
      st.fingerprint.store(fp);
    }
    const std::uint64_t qfp =
        l.quota ? (l.quota->amount * 4 + static_cast<std::uint64_t>(l.quota->period)) : 0;
    if (st.quota_fingerprint.load() != qfp) {
      st.quota_word.store(0);
      st.peak.store(0);
      st.quota_fingerprint.store(qfp);
    }
  }
  const std::int64_t now = realtime_ns();
  const auto words = encode(p, slots, source, now);
  const std::uint64_t published = f.ctl.published.load(std::memory_order_acquire);
  const std::uint64_t next_buffer = (published & 1) ^ 1;
  const std::uint64_t generation = (published >> 1) + 1;
  auto& buf = f.buffers[next_buffer];
  for (std::size_t i = 0; i < words.size(); ++i)
    buf.words[i].store(words[i], std::memory_order_relaxed);
  f.ctl.applied_ns.store(now, std::memory_order_relaxed);
  f.ctl.published.store((generation << 1) | next_buffer, std::memory_order_release);
  if (map_.broken()) return os_error(path_, "write", EIO);
  return generation;
}

runtime::result<const compiled_policy*> store::current() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::uint64_t published = file_->ctl.published.load(std::memory_order_acquire);
    const std::uint64_t generation = published >> 1;
    if (generation == 0) return static_cast<const compiled_policy*>(nullptr);
    if (cached_ && cached_->generation == generation)
      return static_cast<const compiled_policy*>(cached_.get());
    std::vector<std::uint64_t> words(layout::buffer_words);
    const auto& buf = file_->buffers[published & 1];
    for (std::size_t i = 0; i < words.size(); ++i)
      words[i] = buf.words[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (file_->ctl.published.load(std::memory_order_relaxed) != published) continue;  // reapplied
    auto p = std::make_unique<compiled_policy>();
    if (auto why = decode(words.data(), words.size(), *p))
      return invalid_file(errc::corrupt, path_, *why);
    p->generation = generation;
    cached_ = std::move(p);
    return static_cast<const compiled_policy*>(cached_.get());
  }
  return error{errc::busy, path_.string() + " is being re-applied continuously; try again"};
}

}  // namespace sluice::governance
