// Creating, opening, validating and mapping an inbox file; the consumer lock; statistics.
//
// Creation is atomic: the file is built under a private temp name in the bus directory (size,
// reserved memory, identity), then link()ed to <agent>.inbox, which fails if another process
// won the race (we then open theirs). A failure at any step unlinks the temp file, so a
// half-created inbox is never visible and ENOSPC leaves nothing behind.
// Opening trusts nothing: magic, version, every geometry field and the file size are checked
// before the file is mapped, and the mapping is checked to be the file we opened ourselves
// with O_NOFOLLOW (Boost opens by path).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "inbox/files/bus_directory.hpp"
#include "inbox/files/std_fds.hpp"
#include "inbox/forked_consumers.hpp"
#include "inbox/futex.hpp"
#include "inbox/impl.hpp"
#include "inbox/pid_clock.hpp"
#include "inbox/test_hooks.hpp"

namespace sluice::inbox {
namespace {

namespace fs = std::filesystem;

error fail(errc code, std::string text) {
  return error{code, std::move(text)};
}

std::string os_text(int err) {
  return std::strerror(err);
}

error from_errno(int err, const std::string& what, const fs::path& path) {
  switch (errc_of_errno(err)) {
    case errc::permission_denied:
      return fail(errc::permission_denied,
                  what + " " + path.string() + ": " +
                      (err == EROFS ? "read-only filesystem; choose another place with --dir"
                                    : "permission denied; check the owner and mode (sluice "
                                      "uses 0700 directories and 0600 files)"));
    case errc::path_is_symlink:
      return fail(errc::path_is_symlink,
                  path.string() + " is a symlink; sluice never follows symlinks, remove it");
    case errc::no_space: {
      // ENOSPC also means "no inode left", where a smaller inbox would not help: say which.
      struct statvfs fsinfo {};
      const bool out_of_inodes = err == ENOSPC &&
                                 ::statvfs(path.parent_path().c_str(), &fsinfo) == 0 &&
                                 fsinfo.f_files != 0 && fsinfo.f_favail == 0;
      if (out_of_inodes)
        return fail(errc::no_space, what + " " + path.string() +
                                        ": no space left: the filesystem has no free inode (too "
                                        "many files); remove unused inboxes (sluice cleanup) or "
                                        "mount it with more inodes (tmpfs nr_inodes)");
      return fail(errc::no_space,
                  what + " " + path.string() + ": no space left (" + os_text(err) +
                      "); free space in /dev/shm or lower MAX_INBOX_SIZE / the slot size");
    }
    case errc::not_found:
      return fail(errc::not_found,
                  path.string() + " does not exist; create it first (sluice init <agent>)");
    default:
      return fail(errc::io_error, what + " " + path.string() + ": " + os_text(err));
  }
}

std::uint32_t random_incarnation() {
  std::random_device rd;
  return rd() & 0xFFFFFFu;
}

// Writes zeros over [0, size) of fd; returns 0 or the errno.
int write_zeros(int fd, std::uint64_t size) {
  static const std::vector<char> zeros(64 * 1024, 0);
  for (std::uint64_t off = 0; off < size;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), size - off));
    const ssize_t w = ::pwrite(fd, zeros.data(), n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : EIO;
    off += static_cast<std::uint64_t>(w);
  }
  return 0;
}

result<int> create_file(const fs::path& dir, std::string_view agent, const fs::path& final_path,
                        const create_options& opts, bool& lost_race) {
  lost_race = false;
  if ((opts.mode & ~0777u) != 0 || (opts.mode & 0600u) != 0600u) {
    return fail(errc::invalid_argument, "inbox mode must be within 0777 and include 0600 (got " +
                                            std::to_string(opts.mode) + ")");
  }
  const auto g = layout::geometry_of(opts.capacity, opts.critical_reserve, opts.slot_size);
  if (!g) {
    return fail(errc::invalid_argument,
                "inbox geometry out of range: capacity 1.." + std::to_string(layout::max_capacity) +
                    ", critical reserve 1.." + std::to_string(layout::max_critical_reserve) +
                    ", slot size 256.." + std::to_string(layout::max_slot_size) +
                    " in multiples of 64 (got " + std::to_string(opts.capacity) + ", " +
                    std::to_string(opts.critical_reserve) + ", " + std::to_string(opts.slot_size) +
                    ")");
  }
  const fs::path tmp =
      dir / ("." + std::string(agent) + ".inbox.tmp." + std::to_string(::getpid()) + "." +
             std::to_string(random_incarnation()));
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, opts.mode);
  if (fd < 0) return from_errno(errno, "cannot create inbox", tmp);
  // The error is worded before the temp file goes, so it sees the filesystem as it was when
  // the step failed (an out-of-inodes check would otherwise find the temp file's inode free).
  auto abandon = [&](int err, const char* what) {
    error e = from_errno(err, what, final_path);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  };
  if (::fchmod(fd, opts.mode) != 0) return abandon(errno, "cannot set the mode of inbox");
  if (::ftruncate(fd, static_cast<off_t>(g->file_size)) != 0)
    return abandon(errno, "cannot size inbox");
  // Back the part every inbox uses now, so ENOSPC shows here and not as SIGBUS in a producer.
  if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(g->backed_at_creation));
      err != 0) {
    return abandon(err, "cannot reserve memory for inbox");
  }
  // And write it once: tmpfs keeps fallocated pages "not yet written", so every process's
  // first touch of each slot page then faults alone (about 2 us, inside a producer's push).
  // Written pages are mapped 16 at a time by the kernel's fault-around on a read fault,
  // which the first touch of a slot in each process is (push.cpp, touch_first_lap).
  if (const int err = write_zeros(fd, g->backed_at_creation); err != 0)
    return abandon(err, "cannot reserve memory for inbox");
  layout::identity id{};
  std::memcpy(id.magic, layout::magic, sizeof id.magic);
  id.layout_version = layout::layout_version;
  id.header_size = layout::header_size;
  id.capacity = opts.capacity;
  id.critical_reserve = g->critical_ring;
  id.slot_size = opts.slot_size;
  id.ring_size = g->ring_size;
  id.incarnation = random_incarnation();
  id.created_ns = detail::realtime_ns();
  id.file_size = g->file_size;
  if (::pwrite(fd, &id, sizeof id, 0) != static_cast<ssize_t>(sizeof id))
    return abandon(errno != 0 ? errno : EIO, "cannot write inbox header");
  const std::uint32_t backed = backed_at_creation_mask;
  if (::pwrite(fd, &backed, sizeof backed, offsetof(layout::header, backed)) !=
      static_cast<ssize_t>(sizeof backed))
    return abandon(errno != 0 ? errno : EIO, "cannot write inbox header");
  if (::link(tmp.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    if (err != EEXIST) return abandon(err, "cannot publish inbox");
    ::close(fd);
    ::unlink(tmp.c_str());
    lost_race = true;
    return fail(errc::io_error, "lost the creation race");
  }
  ::unlink(tmp.c_str());
  return fd;
}

// Reads and checks the identity; answers the first problem a person should fix.
result<layout::identity> read_identity(int fd, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return from_errno(errno, "cannot inspect inbox", path);
  if (!S_ISREG(st.st_mode)) return fail(errc::io_error, path.string() + " is not a regular file");
  layout::identity id{};
  const ssize_t got = ::pread(fd, &id, sizeof id, 0);
  if (got < 0) return from_errno(errno, "cannot read inbox", path);
  if (static_cast<std::size_t>(got) >= sizeof id.magic &&
      std::memcmp(id.magic, layout::magic, sizeof id.magic) != 0) {
    return fail(
        errc::bad_magic,
        path.string() + " is not a sluice inbox (bad magic); remove it or pick another agent name");
  }
  if (static_cast<std::size_t>(got) < sizeof id ||
      static_cast<std::uint64_t>(st.st_size) < layout::header_size) {
    return fail(errc::wrong_size, path.string() + " is truncated (" + std::to_string(st.st_size) +
                                      " bytes); remove it and run sluice init again");
  }
  if (id.layout_version != layout::layout_version) {
    return fail(errc::wrong_version,
                path.string() + " has layout version " + std::to_string(id.layout_version) +
                    ", this sluice understands " + std::to_string(layout::layout_version) +
                    "; drain it with the matching sluice, then recreate it");
  }
  const auto g = layout::geometry_of(id.capacity, id.critical_reserve, id.slot_size);
  if (id.header_size != layout::header_size || !g || g->critical_ring != id.critical_reserve ||
      g->ring_size != id.ring_size || g->file_size != id.file_size || id.incarnation > 0xFFFFFFu) {
    return fail(errc::corrupt, path.string() + " has an inconsistent header (capacity " +
                                   std::to_string(id.capacity) + ", slot size " +
                                   std::to_string(id.slot_size) +
                                   "); remove it and run sluice init again");
  }
  if (static_cast<std::uint64_t>(st.st_size) != id.file_size) {
    return fail(errc::wrong_size, path.string() + " is " + std::to_string(st.st_size) +
                                      " bytes but its header says " + std::to_string(id.file_size) +
                                      "; remove it and run sluice init again");
  }
  return id;
}

bool same_file(int a, int b) {
  struct stat sa {
  }, sb{};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

inbox::impl::~impl() {
  if (fd >= 0) ::close(fd);
}

inbox::inbox(std::unique_ptr<impl> p) : p_(std::move(p)) {}
inbox::inbox(inbox&&) noexcept = default;
inbox& inbox::operator=(inbox&&) noexcept = default;
inbox::~inbox() = default;

namespace {

result<inbox::impl*> map_file(int fd, const fs::path& path, std::string_view agent,
                              const layout::identity& id) {
  auto m = std::make_unique<inbox::impl>();
  m->fd = fd;
  m->path = path;
  m->agent = std::string(agent);
  // Our own O_NOFOLLOW|O_CLOEXEC descriptor, so what is mapped is the file that was validated.
  if (!m->region.map(fd, id.file_size))
    return fail(errc::io_error, "cannot map " + path.string() + ": " + os_text(errno));
  std::uint8_t* base = m->region.data();
  m->h = reinterpret_cast<layout::header*>(base);
  m->capacity = id.capacity;
  m->slot_size = id.slot_size;
  m->max_payload = layout::max_payload_of(id.slot_size);
  m->id_prefix = static_cast<std::uint64_t>(id.incarnation) << 40;
  (void)m->refresh_freed();  // from 0, a first push would be refused once and then retried
  const auto geo = layout::geometry_of(id.capacity, id.critical_reserve, id.slot_size);
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    const std::uint32_t ring = geo->lane_ring[lane];
    auto& g = m->lanes[lane];
    g.base = base + geo->lane_offset[lane];
    g.ring = ring;
    g.mask = ring - 1;
    g.shift = static_cast<std::uint32_t>(__builtin_ctz(ring));
  }
  return m.release();
}

result<inbox::impl*> open_path(const fs::path& path, std::string_view agent, bool& missing) {
  missing = false;
  const int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    missing = err == ENOENT;
    return from_errno(err, "cannot open inbox", path);
  }
  auto id = read_identity(fd, path);
  if (!id) {
    ::close(fd);
    return id.err();
  }
  auto m = map_file(fd, path, agent, id.value());
  if (!m) ::close(fd);
  return m;
}

result<inbox::impl*> open_impl(const fs::path& bus_dir, std::string_view agent,
                               const create_options* create) {
  if (!ensure_std_fds_open())
    return fail(errc::io_error, "descriptors 0-2 are closed and /dev/null cannot be opened");
  if (!is_valid_agent_name(agent)) {
    return fail(errc::invalid_name, "invalid agent name \"" + std::string(agent) +
                                        "\": use 1-64 characters from A-Z a-z 0-9 _ -");
  }
  // open() cannot say whether the caller shares the bus, so it accepts a group bus of one of
  // the caller's groups; callers that care (the CLI without --group) judge it first.
  if (auto e = create != nullptr ? ensure_bus_directory(bus_dir, sharing_of_mode(create->mode))
                                 : check_bus_directory(bus_dir, bus_sharing::group))
    return *e;
  const fs::path path = bus_dir / (std::string(agent) + ".inbox");
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool missing = false;
    auto opened = open_path(path, agent, missing);
    if (opened || !missing || create == nullptr) return opened;
    bool lost_race = false;
    auto fd = create_file(bus_dir, agent, path, *create, lost_race);
    if (lost_race) continue;
    if (!fd) return fd.err();
    auto id = read_identity(fd.value(), path);
    if (!id) {
      ::close(fd.value());
      return id.err();
    }
    auto m = map_file(fd.value(), path, agent, id.value());
    if (!m) ::close(fd.value());
    return m;
  }
  return fail(errc::io_error,
              path.string() + " keeps appearing and disappearing; is another process deleting it?");
}

}  // namespace

result<inbox> inbox::open_or_create(const std::filesystem::path& bus_dir, std::string_view agent,
                                    const create_options& opts) {
  auto r = open_impl(bus_dir, agent, &opts);
  if (!r) return r.err();
  return inbox(std::unique_ptr<impl>(r.value()));
}

result<inbox> inbox::open(const std::filesystem::path& bus_dir, std::string_view agent) {
  auto r = open_impl(bus_dir, agent, nullptr);
  if (!r) return r.err();
  return inbox(std::unique_ptr<impl>(r.value()));
}

detail::ledger_state detail::read_ledger(const layout::header& h) noexcept {
  const layout::ledger& l = h.commits;
  const std::uint64_t seq = l.seq.load(std::memory_order_acquire);  // sync: head
  const layout::commit_record& r = l.rec[seq & 1];
  detail::ledger_state st;
  // relaxed: ordered after the seq load above; the writer filled the record before its flip.
  for (std::size_t lane = 0; lane < lane_count; ++lane)
    st.head[lane] = r.head[lane].load(std::memory_order_relaxed);
  st.dequeued = r.dequeued.load(std::memory_order_relaxed);
  st.abandoned = r.abandoned.load(std::memory_order_relaxed);
  st.corrupt = r.corrupt.load(std::memory_order_relaxed);
  st.dropped = r.dropped.load(std::memory_order_relaxed);
  return st;
}

detail::ledger_state inbox::impl::read_ledger() const noexcept {
  return detail::read_ledger(*h);
}

void inbox::impl::write_ledger(const detail::ledger_state& next) noexcept {
  layout::ledger& l = h->commits;
  // relaxed: only the flock holder writes the ledger, and the flock orders holders.
  const std::uint64_t seq = l.seq.load(std::memory_order_relaxed);
  layout::commit_record& r = l.rec[(seq + 1) & 1];
  // relaxed: the spare record is published by the seq store below.
  for (std::size_t lane = 0; lane < lane_count; ++lane)
    r.head[lane].store(next.head[lane], std::memory_order_relaxed);
  r.dequeued.store(next.dequeued, std::memory_order_relaxed);
  r.abandoned.store(next.abandoned, std::memory_order_relaxed);
  r.corrupt.store(next.corrupt, std::memory_order_relaxed);
  r.dropped.store(next.dropped, std::memory_order_relaxed);
  l.seq.store(seq + 1, std::memory_order_release);  // sync: head (the commit point)
}

void inbox::impl::publish_freed(const detail::ledger_state& st) noexcept {
  std::uint64_t freed = 0;
  for (std::size_t lane = 0; lane < critical_lane; ++lane) freed += st.head[lane];
  h->freed.value.store(freed, std::memory_order_release);  // sync: admission
}

std::int64_t inbox::impl::leaked_admissions() const noexcept {
  // Tails first, claims last: a producer that passes between the reads is then counted as
  // neither admitted nor placed, so the estimate is never below the admissions held by dead
  // producers (plus, possibly, live ones between their two steps).
  std::uint64_t placed = 0;
  for (std::size_t lane = 0; lane < critical_lane; ++lane) {
    // relaxed: an estimate; nothing is read through it.
    placed += h->tail[lane].value.load(std::memory_order_relaxed);
  }
  const std::uint64_t releases =
      h->releases.value.load(std::memory_order_acquire);                         // sync: admission
  const std::uint64_t claims = h->claims.value.load(std::memory_order_acquire);  // sync: admission
  // Each regular position placed holds one admission until it is freed, and then `freed`
  // holds it: claims - releases - placed are the admissions no position explains.
  return static_cast<std::int64_t>(claims - releases - placed);
}

bool inbox::impl::adopt_ledger(detail::ledger_state& st, std::size_t* bad_lane,
                               bool give_back_leaks) noexcept {
  st = read_ledger();
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    const std::uint64_t head = st.head[lane];
    // relaxed: checked, not followed; read before claims below (see the leak estimate).
    const std::uint64_t tail = h->tail[lane].value.load(std::memory_order_relaxed);
    if (tail < head || tail - head > 2ull * lanes[lane].ring) {
      *bad_lane = lane;
      return false;
    }
  }
  // Committed slots a holder killed inside commit left unfreed: a run just below the head
  // still at its own lap (a finished commit moved every slot below the head to the next lap).
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    const auto& g = lanes[lane];
    if (!lane_in_use(lane)) continue;
    std::uint64_t from = st.head[lane];
    while (from > 0 && st.head[lane] - from < g.ring) {
      const std::uint64_t pos = from - 1;
      std::uint64_t ctl = 0;
      const layout::slot_state s = state_at(lane, pos, ctl);
      if (s != layout::slot_state::published && !layout::is_skipped(s)) break;
      from = pos;
    }
    for (std::uint64_t pos = from; pos != st.head[lane]; ++pos) {
      slot(lane, pos)->ctl.store(layout::make_ctl((pos >> g.shift) + 1, 0),
                                 std::memory_order_release);  // sync: slot-free
    }
  }
  publish_freed(st);
  if (!give_back_leaks) return true;
  // Admissions taken by producers that died before claiming a position are never given back
  // by a commit. A producer caught between its two steps right now is counted too and gets
  // its admission twice; the running consumer takes such an excess back (watch_admissions).
  // An evicting producer does not do this: senders retrying on a full inbox are always in
  // that window, and no running consumer would take the excess back.
  const std::int64_t leaked = leaked_admissions();
  if (leaked > 0)
    h->releases.value.fetch_add(static_cast<std::uint64_t>(leaked),
                                std::memory_order_release);  // sync: admission
  return true;
}

result<consumer> inbox::attach_consumer(const consumer_options& opts) {
  if (!p_) return fail(errc::io_error, "attach_consumer on a moved-from inbox");
  impl& m = *p_;
  layout::header& h = *m.h;
  auto busy = [&] {
    const std::int32_t pid =
        h.consumer.pid.load(std::memory_order_relaxed);  // relaxed: for the message only
    return fail(errc::busy, "inbox already has a consumer (pid " +
                                (pid > 0 ? std::to_string(pid) : std::string("unknown")) + ")");
  };
  if (m.consuming) return busy();
  auto st = std::make_unique<consumer::state>();
  st->in = &m;
  const int lock_fd = detail::forked_consumers::open_lock(st.get(), m.path);
  if (lock_fd < 0) return from_errno(errno, "cannot open inbox", m.path);
  auto give_up = [&] {
    detail::forked_consumers::remove(st.get());
    ::close(lock_fd);
  };
  if (!same_file(lock_fd, m.fd)) {
    give_up();
    return fail(errc::io_error,
                m.path.string() + " was replaced since it was opened; open it again");
  }
#ifdef SLUICE_INBOX_TEST_HOOKS
  if (test_hooks::before_consumer_lock != nullptr) test_hooks::before_consumer_lock();
#endif
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    give_up();
    if (err == EWOULDBLOCK) return busy();
    return from_errno(err, "cannot lock inbox", m.path);
  }
  detail::ledger_state adopted;
  std::size_t bad = 0;
  if (!m.adopt_ledger(adopted, &bad, true)) {
    give_up();
    const std::uint64_t tail =
        h.tail[bad].value.load(std::memory_order_relaxed);  // relaxed: for the message only
    return fail(errc::corrupt, m.path.string() + " has inconsistent lane indexes (head " +
                                   std::to_string(adopted.head[bad]) + ", tail " +
                                   std::to_string(tail) +
                                   "); drain what you can with peek, then recreate it");
  }
  auto& c = m.cons;
  c = detail::consumer_cursors{};
  c.committed = adopted;
  std::copy(std::begin(c.committed.head), std::end(c.committed.head), std::begin(c.cursor));
  c.wrr_committed = c.wrr = detail::wrr_state{};
  m.grace = opts.abandon_grace;
  m.adopt_stuck_claims();
  h.not_empty.socket.store(0, std::memory_order_relaxed);  // relaxed: a dead consumer's bell
  m.consuming = true;
  h.consumer.pid.store(detail::self_pid(), std::memory_order_relaxed);  // relaxed: informational
  h.consumer.heartbeat_ns.store(detail::monotonic_ns(),
                                std::memory_order_relaxed);  // relaxed: informational
  return consumer(std::move(st));
}

consumer::consumer(std::unique_ptr<state> s) : s_(std::move(s)) {}
consumer::consumer(consumer&&) noexcept = default;
consumer& consumer::operator=(consumer&& other) noexcept {
  if (this != &other) {
    release();
    s_ = std::move(other.s_);
  }
  return *this;
}
consumer::~consumer() {
  release();
}

bool consumer::held() const noexcept {
  return s_ && s_->lock_fd >= 0;
}

void consumer::release() noexcept {
  if (!s_) return;
  detail::forked_consumers::remove(s_.get());
  if (!held()) {  // inherited over fork: the inbox handle is this process's own consumer's now
    s_.reset();
    return;
  }
  disarm();
  inbox::impl& m = *s_->in;
  std::int32_t self = detail::self_pid();
  // relaxed: informational; only clears our own pid.
  m.h->consumer.pid.compare_exchange_strong(self, 0, std::memory_order_relaxed);
  m.consuming = false;
  m.cons = detail::consumer_cursors{};
  ::close(s_->lock_fd);  // releases the flock
  s_.reset();
}

stats inbox::snapshot() const noexcept {
  stats s;
  if (!p_) return s;
  const impl& m = *p_;
  const layout::header& h = *m.h;
  s.capacity = m.capacity;
  s.critical_reserve = h.id.critical_reserve;
  s.slot_size = m.slot_size;
  s.max_payload = m.max_payload;
  std::uint64_t claimed = 0;
  const detail::ledger_state committed = m.read_ledger();
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    const std::uint64_t head = committed.head[lane];
    // relaxed: a statistics snapshot; lanes may move while we read.
    const std::uint64_t tail = h.tail[lane].value.load(std::memory_order_relaxed);
    const std::uint64_t n =
        tail > head ? std::min<std::uint64_t>(tail - head, m.lanes[lane].ring) : 0;
    s.size_by_lane[lane] = n;
    s.size += n;
    claimed += tail;
  }
  s.dequeued = committed.dequeued;
  s.dropped = committed.dropped;
  s.abandoned = committed.abandoned;
  // relaxed: statistics.
  s.rejected_full = h.count.rejected_full.load(std::memory_order_relaxed);
  s.fair_share_refusals = h.count.fair_share_refusals.load(std::memory_order_relaxed);
  s.backpressure_waits = h.count.backpressure_waits.load(std::memory_order_relaxed);
  s.send_failures = h.count.send_failures.load(std::memory_order_relaxed);
  s.corrupt = committed.corrupt + h.count.corrupt_pushes.load(std::memory_order_relaxed);
  // Every claimed position is a message (enqueued) or a skipped slot; skipped slots are known
  // once committed.
  const std::uint64_t skipped = committed.abandoned + committed.corrupt;
  s.enqueued = claimed > skipped ? claimed - skipped : 0;
  const std::int32_t pid = h.consumer.pid.load(std::memory_order_relaxed);
  s.consumer_pid = detail::process_alive(pid) ? pid : 0;
  s.recorded_consumer_pid = pid;
  s.created_ns = h.id.created_ns;
  return s;
}

std::uint64_t inbox::size() const noexcept {
  if (!p_) return 0;
  std::uint64_t total = 0;
  const detail::ledger_state committed = p_->read_ledger();
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    const std::uint64_t head = committed.head[lane];
    // relaxed: a momentary count; lanes may move while we read.
    const std::uint64_t tail = p_->h->tail[lane].value.load(std::memory_order_relaxed);
    if (tail > head) total += std::min<std::uint64_t>(tail - head, p_->lanes[lane].ring);
  }
  return total;
}

std::uint32_t inbox::capacity() const noexcept {
  return p_ ? p_->capacity : 0;
}

bool inbox::full() const noexcept {
  if (!p_) return true;
  // acquire: pairs with the consumer's release of admissions (sync: admission).
  const std::uint64_t claims = p_->h->claims.value.load(std::memory_order_acquire);
  const std::uint64_t releases = p_->h->releases.value.load(std::memory_order_acquire);
  const std::uint64_t freed = p_->h->freed.value.load(std::memory_order_acquire);
  return static_cast<std::int64_t>(claims - releases - freed) >=
         static_cast<std::int64_t>(p_->capacity);
}

breaker_cell& inbox::breaker() noexcept {
  return p_->h->breaker;
}

void inbox::count_backpressure_wait() noexcept {
  p_->h->count.backpressure_waits.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
}

void inbox::count_send_failure() noexcept {
  p_->h->count.send_failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
}

void inbox::close() noexcept {
  if (!p_) return;
  p_->h->consumer.closed.store(1, std::memory_order_relaxed);  // relaxed: advisory flag
  p_->ring_not_full();
  p_->ring_not_empty();
}

bool inbox::broken() const noexcept {
  return p_ && p_->region.broken();
}

bool inbox::closed() const noexcept {
  return !p_ ||
         p_->h->consumer.closed.load(std::memory_order_relaxed) != 0;  // relaxed: advisory flag
}

const std::filesystem::path& inbox::path() const noexcept {
  return p_->path;
}
const std::string& inbox::agent() const noexcept {
  return p_->agent;
}

}  // namespace sluice::inbox
