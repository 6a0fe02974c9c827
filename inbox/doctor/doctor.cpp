// sluice doctor: diagnosis and repair of an inbox file (see doctor.hpp for the contract).
//
// The doctor reads the raw indexes and slot control words that the public API does not expose
// through the inbox's own mapping (inbox_access), so it sees exactly what inbox::open
// validated, with the same SIGBUS guard and the same lanes skipped while never backed. Who holds
// the consumer lock is read from /proc/locks rather than probed with flock(), so diagnosing never
// makes a consumer that attaches at the same moment fail with "busy".
#include "inbox/doctor/doctor.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "inbox/files/read_file.hpp"
#include "inbox/impl.hpp"
#include "inbox/layout.hpp"
#include "inbox/pid_clock.hpp"

namespace sluice::inbox {
namespace {

namespace fs = std::filesystem;
using layout::make_ctl;

const char* lane_name(std::size_t lane) {
  return to_string(static_cast<priority>(lane));
}

// The pid holding an flock on (dev, ino), from /proc/locks; 0 when nobody does.
std::int32_t flock_holder(dev_t dev, ino_t ino) {
  std::istringstream locks(read_file("/proc/locks", 16u << 20).text);
  std::string line;
  std::ostringstream want;
  want << std::hex;
  want.fill('0');
  want.width(2);
  want << major(dev) << ':';
  want.width(2);
  want << minor(dev) << ':' << std::dec << ino;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string ordinal, kind, mode, access, pid, where;
    fields >> ordinal >> kind;
    if (kind == "->") continue;  // a waiter, not the holder
    fields >> mode >> access >> pid >> where;
    if (kind == "FLOCK" && where == want.str()) return static_cast<std::int32_t>(std::stol(pid));
  }
  return 0;
}

// The doctor's view of a slot: the shared decoding (layout::decode), with a claim told apart
// by whether its claimant still lives.
enum class slot_state { published, marked, live_claim, dead_claim, unstamped, stale_lap };

slot_state classify(std::uint64_t ctl, std::uint32_t lap) {
  switch (layout::decode(ctl, lap)) {
    case layout::slot_state::published:
      return slot_state::published;
    case layout::slot_state::abandoned:
    case layout::slot_state::corrupt:
      return slot_state::marked;
    case layout::slot_state::free:
      return slot_state::unstamped;
    case layout::slot_state::other_lap:
      return slot_state::stale_lap;
    case layout::slot_state::claimed:
      break;
  }
  return detail::process_alive(static_cast<pid_t>(layout::claimant(ctl))) ? slot_state::live_claim
                                                                          : slot_state::dead_claim;
}

std::string plural(std::uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

diagnosis inspect(const inbox::impl& m, const fs::path& path, std::string_view agent,
                  const stats& snapshot) {
  diagnosis d;
  d.path = path;
  d.agent = std::string(agent);
  d.counters = snapshot;
  d.ring_size = m.lanes[normal_lane].ring;
  d.file_size = m.region.size();
  const layout::header& h = *m.h;
  // relaxed everywhere below: a diagnosis is a snapshot; nothing is read through these values
  // except slot control words, which are bounds-checked positions inside the mapping.
  const std::uint64_t claims = h.claims.value.load(std::memory_order_relaxed);
  const std::uint64_t releases = h.releases.value.load(std::memory_order_relaxed);
  const detail::ledger_state ledger = detail::read_ledger(h);
  const std::uint64_t freed = h.freed.value.load(std::memory_order_relaxed);
  std::uint64_t outstanding = 0;
  std::uint64_t committed = 0;
  std::uint64_t committed_regular = 0;
  bool indexes_ok = true;
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    auto& ls = d.lanes[lane];
    ls.ring = m.lanes[lane].ring;
    if (!m.lane_in_use(lane)) continue;  // never backed: nothing was ever sent on it
    ls.head = ledger.head[lane];
    ls.tail = h.tail[lane].value.load(std::memory_order_relaxed);
    if (ls.tail < ls.head || ls.tail - ls.head > ls.ring) {
      indexes_ok = false;
      d.findings.push_back({finding_kind::corrupt_indexes,
                            std::string(lane_name(lane)) + " lane indexes are out of range (head " +
                                std::to_string(ls.head) + ", tail " + std::to_string(ls.tail) +
                                ", ring " + std::to_string(ls.ring) +
                                "): drain what peek shows, then recreate the inbox",
                            false});
      continue;
    }
    ls.pending = ls.tail - ls.head;
    committed += ls.head;
    if (lane != critical_lane) {
      outstanding += ls.pending;
      committed_regular += ls.head;
    }
    // Committed slots still at their own lap just below the head: a commit cut short.
    for (std::uint64_t pos = ls.head; pos > 0 && ls.head - pos < ls.ring; --pos) {
      const std::uint64_t ctl = m.slot(lane, pos - 1)->ctl.load(std::memory_order_relaxed);
      const slot_state st =
          classify(ctl, static_cast<std::uint32_t>((pos - 1) >> m.lanes[lane].shift));
      if (st != slot_state::marked && st != slot_state::published) break;
      ++d.unfreed_committed;
    }
    for (std::uint64_t pos = ls.head; pos != ls.tail; ++pos) {
      const std::uint64_t ctl = m.slot(lane, pos)->ctl.load(std::memory_order_relaxed);
      const slot_state st = classify(ctl, static_cast<std::uint32_t>(pos >> m.lanes[lane].shift));
      if (st == slot_state::dead_claim || st == slot_state::unstamped ||
          st == slot_state::stale_lap) {
        d.stuck.push_back(
            {static_cast<priority>(lane), pos,
             st == slot_state::dead_claim ? static_cast<std::int32_t>(layout::claimant(ctl)) : 0});
      }
    }
  }

  const std::int32_t recorded = h.consumer.pid.load(std::memory_order_relaxed);
  d.recorded_consumer_pid = recorded;
  d.recorded_consumer_alive = recorded > 0 && detail::process_alive(recorded);
  struct stat st {};
  const std::int32_t holder = ::fstat(m.fd, &st) == 0 ? flock_holder(st.st_dev, st.st_ino) : 0;
  d.consumer_lock_held = holder != 0;
  if (recorded != 0 && !d.consumer_lock_held) {
    d.findings.push_back(
        {finding_kind::stale_consumer_pid,
         "consumer pid " + std::to_string(recorded) + " is recorded but " +
             (d.recorded_consumer_alive ? "no longer holds the consumer lock" : "is dead") +
             " (the kernel released its lock; the next consumer takes over)",
         true});
  }
  if (!d.stuck.empty()) {
    std::string first = std::string(lane_name(static_cast<std::size_t>(d.stuck.front().lane))) +
                        " lane position " + std::to_string(d.stuck.front().position);
    first += d.stuck.front().claimant != 0
                 ? " claimed by dead pid " + std::to_string(d.stuck.front().claimant)
                 : " claimed by a producer that died before stamping it";
    d.findings.push_back(
        {finding_kind::abandoned_claim,
         plural(d.stuck.size(), "slot") +
             " claimed but never published by a dead producer (first: " + first +
             (d.consumer_lock_held
                  ? "); the running consumer skips them after its grace period"
                  : "); repair marks them abandoned, the messages behind them stay pending"),
         !d.consumer_lock_held});
  }
  if (indexes_ok) {
    if (d.unfreed_committed != 0 || freed != committed_regular) {
      d.findings.push_back(
          {finding_kind::unfinished_commit,
           "a consumer died inside commit: " +
               plural(std::max<std::uint64_t>(d.unfreed_committed, committed_regular - freed),
                      "committed slot") +
               " not yet given back to senders" +
               (d.consumer_lock_held ? std::string(" (a consumer is attaching right now?)")
                                     : std::string("; the next consumer or repair frees them")),
           !d.consumer_lock_held});
    }
    d.leaked_admissions =
        static_cast<std::int64_t>(claims - releases - committed_regular - outstanding);
    if (d.leaked_admissions > 0) {
      d.findings.push_back({finding_kind::leaked_admissions,
                            plural(static_cast<std::uint64_t>(d.leaked_admissions), "admission") +
                                " taken by producers that died before claiming a slot: the inbox "
                                "looks that much fuller to senders" +
                                (d.consumer_lock_held ? " until the consumer re-attaches"
                                                      : "; repair gives them back"),
                            !d.consumer_lock_held});
    } else if (d.leaked_admissions < 0) {
      d.findings.push_back(
          {finding_kind::counter_mismatch,
           "more admissions released than taken (" +
               // Negated in unsigned arithmetic: a damaged header may
               // make the difference INT64_MIN (inbox_slots_fuzz found it).
               std::to_string(0 - static_cast<std::uint64_t>(d.leaked_admissions)) +
               "): senders in flight right now, or a damaged header; run doctor "
               "again when the bus is idle",
           false});
    }
    const auto& c = ledger;
    d.counter_drift =
        static_cast<std::int64_t>(committed - (c.dequeued + c.dropped + c.abandoned + c.corrupt));
    if (d.counter_drift != 0) {
      d.findings.push_back(
          {finding_kind::counter_mismatch,
           "counters do not add up: " + std::to_string(committed) +
               " committed positions vs dequeued " + std::to_string(c.dequeued) + " + dropped " +
               std::to_string(c.dropped) + " + abandoned " + std::to_string(c.abandoned) +
               " + corrupt " + std::to_string(c.corrupt) +
               " (the header was damaged; statistics only, no message is affected)",
           false});
    }
  }
  if (h.consumer.closed.load(std::memory_order_relaxed) != 0) {
    d.findings.push_back({finding_kind::closed,
                          "the inbox is closed: every send is refused; recreate it to reopen",
                          false});
  }
  return d;
}

// The pid in a temp file name `<name>.tmp.<pid>` or `<name>.tmp.<pid>.<n>` (how every sluice
// creator names the file it builds before linking or renaming it into place); 0 otherwise.
pid_t temp_file_pid(std::string_view name) {
  const auto at = name.rfind(".tmp.");
  if (at == std::string_view::npos || at == 0) return 0;
  std::string_view rest = name.substr(at + 5);
  const auto dot = rest.find('.');
  const std::string_view digits = rest.substr(0, dot);
  if (dot != std::string_view::npos) {
    const std::string_view n = rest.substr(dot + 1);
    if (n.empty() || n.find_first_not_of("0123456789") != std::string_view::npos) return 0;
  }
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos)
    return 0;
  pid_t pid = 0;
  for (const char ch : digits) pid = pid * 10 + (ch - '0');
  return pid;
}

error broken_while_reading(const fs::path& path) {
  return error{errc::io_error, path.string() +
                                   " shrank or could not be backed by memory while the doctor "
                                   "read it (truncated, or the filesystem is full); the doctor "
                                   "stopped there; check the file and run doctor again"};
}

struct opened {
  inbox box;
  fs::path path;
};

result<opened> open_validated(const fs::path& bus_dir, std::string_view agent) {
  auto in = inbox::open(bus_dir, agent);
  if (!in) return in.err();
  fs::path path = in->path();
  return opened{std::move(in).value(), std::move(path)};
}

}  // namespace

const char* to_string(finding_kind k) noexcept {
  switch (k) {
    case finding_kind::stale_consumer_pid:
      return "stale_consumer_pid";
    case finding_kind::abandoned_claim:
      return "abandoned_claim";
    case finding_kind::leaked_admissions:
      return "leaked_admissions";
    case finding_kind::counter_mismatch:
      return "counter_mismatch";
    case finding_kind::unfinished_commit:
      return "unfinished_commit";
    case finding_kind::corrupt_indexes:
      return "corrupt_indexes";
    case finding_kind::closed:
      return "closed";
  }
  return "unknown";
}

result<diagnosis> diagnose(const fs::path& bus_dir, std::string_view agent) {
  auto o = open_validated(bus_dir, agent);
  if (!o) return o.err();
  const inbox::impl& m = detail::inbox_access::of(o->box);
  const stats snap = o->box.snapshot();
  diagnosis d = inspect(m, o->path, agent, snap);
  if (o->box.broken()) return broken_while_reading(o->path);
  return d;
}

result<repair_outcome> repair(const fs::path& bus_dir, std::string_view agent,
                              std::chrono::milliseconds grace) {
  auto o = open_validated(bus_dir, agent);
  if (!o) return o.err();
  inbox::impl& m = detail::inbox_access::of(o->box);
  const diagnosis before = inspect(m, o->path, agent, o->box.snapshot());
  repair_outcome out;
  {
    // Holding the consumer lock makes us the only one who may skip slots; attaching also
    // returns leaked admissions and overwrites a stale pid, which the detach then clears.
    auto c = o->box.attach_consumer(consumer_options{grace});
    if (!c) return c.err();
    for (const auto& f : before.findings) {
      if (f.kind == finding_kind::unfinished_commit)
        out.actions.push_back("finished the commit a dead consumer left half done");
    }
    if (before.leaked_admissions > 0) {
      out.actions.push_back(
          "gave back " +
          plural(static_cast<std::uint64_t>(before.leaked_admissions), "leaked admission"));
    }
    layout::header& h = *m.h;
    struct candidate {
      std::size_t lane;
      std::uint64_t pos;
      std::uint64_t ctl;
    };
    std::vector<candidate> candidates;
    // We hold the consumer lock: the ledger is ours to read.
    const detail::ledger_state ledger = detail::read_ledger(h);
    for (std::size_t lane = 0; lane < lane_count; ++lane) {
      // acquire: we hold the consumer lock; pairs with the last consumer's commit.
      const std::uint64_t head = ledger.head[lane];
      const std::uint64_t tail =
          h.tail[lane].value.load(std::memory_order_relaxed);  // relaxed: bounds-checked below
      if (!m.lane_in_use(lane) || tail < head || tail - head > m.lanes[lane].ring) continue;
      for (std::uint64_t pos = head; pos != tail; ++pos) {
        const std::uint64_t ctl =
            m.slot(lane, pos)->ctl.load(std::memory_order_acquire);  // sync: publish
        const slot_state st = classify(ctl, static_cast<std::uint32_t>(pos >> m.lanes[lane].shift));
        if (st == slot_state::dead_claim || st == slot_state::unstamped ||
            st == slot_state::stale_lap) {
          candidates.push_back({lane, pos, ctl});
        }
      }
    }
    // A claim with no stamp may belong to a live producer between its two steps: give it the
    // grace period. One that stamps in the meantime changes ctl and is left alone.
    if (!candidates.empty()) std::this_thread::sleep_for(grace);
    std::uint64_t skipped = 0;
    for (const auto& cand : candidates) {
      const auto lap = static_cast<std::uint32_t>(cand.pos >> m.lanes[cand.lane].shift);
      const slot_state st = classify(cand.ctl, lap);
      if (st != slot_state::dead_claim && st != slot_state::unstamped &&
          st != slot_state::stale_lap)
        continue;
      std::uint64_t expected = cand.ctl;
      const std::uint32_t mark =
          st == slot_state::stale_lap ? layout::corrupt_owner : layout::abandoned_owner;
      // acq_rel: wins the slot against a late stamp, exactly like the consumer's resolve_stuck.
      // Counted by the consumer that commits past it.
      if (m.slot(cand.lane, cand.pos)
              ->ctl.compare_exchange_strong(expected, make_ctl(lap, mark),
                                            std::memory_order_acq_rel)) {  // sync: abandon
        ++skipped;
      }
    }
    if (skipped != 0)
      out.actions.push_back("marked " + plural(skipped, "slot") + " of dead producers abandoned");
  }
  if (before.recorded_consumer_pid != 0 && !before.consumer_lock_held) {
    out.actions.push_back("cleared stale consumer pid " +
                          std::to_string(before.recorded_consumer_pid));
  }
  out.after = inspect(m, o->path, agent, o->box.snapshot());
  if (o->box.broken()) return broken_while_reading(o->path);
  return out;
}

std::vector<fs::path> leftover_temp_files(const fs::path& bus_dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (fs::directory_iterator it(bus_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->symlink_status(type_ec).type() != fs::file_type::regular) continue;
    const pid_t pid = temp_file_pid(it->path().filename().string());
    if (pid > 0 && !detail::process_alive(pid)) found.push_back(it->path());
  }
  return found;
}

std::vector<fs::path> remove_leftover_temp_files(const fs::path& bus_dir) {
  std::vector<fs::path> removed;
  for (const auto& f : leftover_temp_files(bus_dir)) {
    if (::unlink(f.c_str()) == 0) removed.push_back(f);
  }
  return removed;
}

}  // namespace sluice::inbox
