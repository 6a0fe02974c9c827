// Producer side: admission, slot claim, publish, drop-oldest eviction, the not_full doorbell.
//
// Fast path for regular messages (no syscall, no lock), one message or a run of them alike
// (push_regular):
//   1. read freed + releases, then claims.fetch_add(n) (admit): admission tickets and inbox
//      sequence numbers in one RMW; those that would leave no room are given back through
//      releases. The two reads come before the ticket: read after it, they could count
//      releases and frees of tickets younger than ours, which our ticket number does not
//      count, and admit more than capacity (two producers each taking the last room, whose
//      slot is then not free). tests/inbox/admission_test.cpp replays that interleaving.
//      `freed` is the value this process read last (freed_seen), not a fresh one: it only
//      grows, so an older value is a smaller, safe bound, and a fresh read would be a
//      cross-core transfer on every message (the consumer writes it on every commit). A
//      refusal reads it again and, if it moved, gives the ticket back and tries once more, so
//      a stale value never makes a push fail or evict; after a push that leaves the inbox
//      looking more than half full it is read again, after the publish, off the message's path.
//      At or above half full the sender's fair share may also limit what it takes
//      (fair_share.hpp); below, that costs one comparison. After a refusal, the next push
//      looks at room and share before it takes a ticket (impl.hpp, look_before_ticket), so a
//      sender that keeps finding the inbox full holds no ticket while it does.
//   2. tail[lane].fetch_add(n): the positions; admission guarantees their slots were freed.
//   3. CAS the slot ctl (lap, 0) -> (lap, pid): the stamp. If the consumer already gave up on
//      this position (we were stalled longer than the grace period) the CAS fails and we start
//      again from 1, so a slow producer never writes into a slot it no longer owns.
//   4. write the message, then store (lap, pid | published) with release.
//   5. ring not_empty only if someone sleeps on it.
// Critical messages use their own ring and a Vyukov check on the slot instead of admission.
#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "inbox/bell.hpp"
#include "inbox/fair_share.hpp"
#include "inbox/futex.hpp"
#include "inbox/impl.hpp"
#include "inbox/pid_clock.hpp"
#include "inbox/prefetch.hpp"
#include "inbox/test_hooks.hpp"

namespace sluice::inbox {

#ifdef SLUICE_INBOX_TEST_HOOKS
void (*test_hooks::after_claim)() = nullptr;
void (*test_hooks::after_admission)() = nullptr;
void (*test_hooks::after_ticket)() = nullptr;
void (*test_hooks::inside_commit)() = nullptr;
void (*test_hooks::before_consumer_lock)() = nullptr;
#endif

namespace {

using layout::make_ctl;

inline void call_after_claim_hook() noexcept {
#ifdef SLUICE_INBOX_TEST_HOOKS
  if (test_hooks::after_claim != nullptr) test_hooks::after_claim();
#endif
}

inline void call_after_ticket_hook() noexcept {
#ifdef SLUICE_INBOX_TEST_HOOKS
  if (test_hooks::after_ticket != nullptr) test_hooks::after_ticket();
#endif
}

inline void call_after_admission_hook() noexcept {
#ifdef SLUICE_INBOX_TEST_HOOKS
  if (test_hooks::after_admission != nullptr) test_hooks::after_admission();
#endif
}

inline bool fits(const message_view& m, std::uint32_t max_payload) noexcept {
  return m.payload.size() <= max_payload && m.from.size() <= max_agent_name &&
         m.type.size() <= max_type_name;
}

// Returns the bytes of the slot the message now covers (header, names, payload).
inline std::size_t write_slot(layout::slot_header* s, const message_view& m, std::uint64_t id,
                              std::uint64_t seq, std::uint64_t now_ns,
                              std::uint8_t sender_cell) noexcept {
  s->id = id;
  s->sequence = seq;
  s->sent_ns = now_ns;
  s->payload_len = static_cast<std::uint32_t>(m.payload.size());
  s->from_len = static_cast<std::uint8_t>(m.from.size());
  s->type_len = static_cast<std::uint8_t>(m.type.size());
  s->prio = static_cast<std::uint8_t>(m.prio);
  s->sender_cell = sender_cell;
  char* bytes = reinterpret_cast<char*>(s) + layout::slot_fixed_size;
  std::memcpy(bytes, m.from.data(), m.from.size());
  std::memcpy(bytes + m.from.size(), m.type.data(), m.type.size());
  std::memcpy(bytes + m.from.size() + m.type.size(), m.payload.data(), m.payload.size());
  return layout::slot_fixed_size + m.from.size() + m.type.size() + m.payload.size();
}

// A process's first write to a slot page would take a page fault per page (about 2 us, inside
// the push). A read fault instead lets the kernel map the neighbouring pages with it (fault
// around, 16 pages): so during its first lap over a lane a producer reads the slot before its
// stamp. Later the pages are mapped and the read would only cost a second cache-line transfer.
inline void touch_first_lap(inbox::impl& m, std::size_t lane,
                            const layout::slot_header* s) noexcept {
  auto& pushes = m.first_lap_pushes[lane];
  // relaxed: a process-local hint; a lost count only means one more or one fewer read.
  const std::uint32_t n = pushes.load(std::memory_order_relaxed);
  if (n >= m.lanes[lane].ring) return;
  pushes.store(n + 1, std::memory_order_relaxed);  // relaxed: as above
  (void)s->ctl.load(std::memory_order_relaxed);    // relaxed: only maps the page
}

// After a push: if no producer has taken the next position yet, ask for its slot's message
// lines in exclusive state, as many as the message just written used. At rest those lines sit
// in a shared cache (a ring of page-sized slots is evicted long before it comes round again),
// and the publish store waits until every one of them is owned: 17 fetches for 1 KiB, about
// 0.3 us of a 1 us hand-over on our 2-core VM. Fetched now, after the publish, they are owned
// when the next message is written. Line 0 (the control word) is left alone: the consumer
// polls it while it waits, and taking it away would only make both sides wait for it.
inline void warm_next_slot(inbox::impl& m, std::size_t lane, std::uint64_t next_pos,
                           std::size_t bytes_used) noexcept {
  // relaxed: a hint; a producer that takes the position meanwhile only loses the warm lines.
  if (m.h->tail[lane].value.load(std::memory_order_relaxed) != next_pos) return;
  const auto* next = reinterpret_cast<const char*>(m.slot(lane, next_pos));
  const std::size_t end = std::min<std::size_t>(bytes_used, m.slot_size);
  for (std::size_t off = detail::cache_line_bytes; off < end; off += detail::cache_line_bytes)
    detail::prefetch_for_write(next + off);
}

// Step 3 above. acquire: the consumer's free store (lap, 0) must be visible before we write.
inline bool stamp(layout::slot_header* s, std::uint64_t lap, std::uint32_t pid) noexcept {
  std::uint64_t expected = make_ctl(lap, 0);
  return s->ctl.compare_exchange_strong(
      expected, make_ctl(lap, pid), std::memory_order_acquire,  // sync: slot-free
      std::memory_order_relaxed);                               // relaxed: failure only means retry
}

inline void publish(layout::slot_header* s, std::uint64_t lap, std::uint32_t pid) noexcept {
  s->ctl.store(make_ctl(lap, pid | layout::published_bit),
               std::memory_order_release);  // sync: publish
}

// Re-reads of an unmoving critical tail before the lane is judged corrupt; a live race
// resolves in a handful of reads.
constexpr std::uint32_t max_stuck_tail_reads = 1u << 16;
// Slots a push may lose before the inbox is judged corrupt. The consumer gives up on an
// unstamped position only after a grace period at its cursor, one position at a time, so
// losing a whole ring's worth takes a producer stalled for ring x grace (100 s at the
// defaults): more than that is lying counters. The floor keeps tiny rings from judging early,
// and the bound keeps a push on a lying file from looping for long.
inline std::uint64_t max_lost_stamps(const inbox::impl& m, std::size_t lane) noexcept {
  return std::max<std::uint64_t>(m.lanes[lane].ring, 64);
}

}  // namespace

std::uint64_t inbox::impl::admissions_returned() const noexcept {
  // relaxed: freed_seen was read with acquire (refresh_freed); the stamp's acquire on the slot
  // orders our writes after its free in any case.
  return freed_seen.load(std::memory_order_relaxed) +
         h->releases.value.load(std::memory_order_acquire);  // sync: admission
}

bool inbox::impl::refresh_freed() noexcept {
  const std::uint64_t now = h->freed.value.load(std::memory_order_acquire);  // sync: admission
  // relaxed: process-local; a thread storing an older value only makes admission stricter.
  return freed_seen.exchange(now, std::memory_order_relaxed) != now;
}

namespace {

// The last regular run a push published, for the work done after its doorbell.
struct published_run {
  std::size_t lane = 0;
  std::uint64_t next_pos = 0;     // the position after the run's last one
  std::size_t bytes = 0;          // slot bytes its last message covered
  std::uint64_t next_ticket = 0;  // the ticket after the run's last admitted one
  std::uint64_t returned = 0;     // admissions_returned() its admission was measured against
};

// After the doorbell, off the message's path: warm the next slot, and refresh freed_seen when
// the inbox looks more than half full through it, so the next push is seldom refused for a
// stale value (one read per half lap at low load).
inline void after_publish(inbox::impl& m, const published_run& r) noexcept {
  warm_next_slot(m, r.lane, r.next_pos, r.bytes);
  if (r.next_ticket - r.returned > m.capacity / 2) (void)m.refresh_freed();
}

}  // namespace

bool inbox::impl::back_lane(std::size_t lane) noexcept {
  if (lane_in_use(lane)) return true;
  const auto& g = lanes[lane];
  const auto offset = static_cast<off_t>(g.base - region.data());
  const auto length = static_cast<off_t>(static_cast<std::uint64_t>(g.ring) * slot_size);
  int err = 0;
  do {
    err = ::posix_fallocate(fd, offset, length);
  } while (err == EINTR);
  if (err != 0) return false;
  h->backed.mask.fetch_or(1u << lane, std::memory_order_release);  // sync: backing
  return true;
}

void inbox::impl::ring_not_empty() noexcept {
  // Dekker pair with wait_not_empty: our publish store, then a barrier, then the waiters
  // load; the sleeper increments waiters, barrier, then re-reads the slots. One side always
  // sees the other, so a sleeper never misses the message that was just published.
  if (detail::waiters_after_change(h->not_empty.waiters) != 0) {  // sync: not-empty-dekker
    h->not_empty.bell.fetch_add(1, std::memory_order_release);    // sync: not-empty-bell
    detail::futex_wake_all(h->not_empty.bell);
  }
  // The same pair with consumer::arm, for a consumer that waits in an event loop. relaxed:
  // ordered by the barrier in waiters_after_change; the exchange makes the bell one-shot.
  if (h->not_empty.socket.load(std::memory_order_relaxed) != 0) {  // sync: not-empty-dekker
    const std::uint64_t name = h->not_empty.socket.exchange(0, std::memory_order_relaxed);
    if (name != 0) detail::ring_bell(name);
  }
}

void inbox::impl::ring_not_full() noexcept {
  if (detail::waiters_after_change(h->not_full.waiters) != 0) {  // sync: not-full-dekker
    h->not_full.bell.fetch_add(1, std::memory_order_release);    // sync: not-full-bell
    detail::futex_wake_all(h->not_full.bell);
  }
}

namespace {

// The checks every message passes before it may take anything shared.
inline push_result precheck(inbox::impl& m, const message_view& msg, std::size_t lane) noexcept {
  // relaxed: a close racing with this push may let it through; close is advisory.
  if (m.h->consumer.closed.load(std::memory_order_relaxed) != 0) return push_result::closed;
  if (!fits(msg, m.max_payload)) return push_result::too_large;
  if (m.region.broken()) return push_result::broken;
  if (!m.lane_in_use(lane) && !m.back_lane(lane)) return push_result::no_space;
  return push_result::ok;
}

std::size_t lane_of(const message_view& msg) noexcept {
  return static_cast<std::size_t>(msg.prio) % lane_count;
}

// Step 1 for `want` regular messages: one range of tickets; those beyond capacity are given
// back. `retry` when the refusal was for a stale freed_seen, now re-read (once per push):
// then the caller takes new tickets instead of answering full.
struct admission {
  std::uint64_t seq = 0;       // the first ticket, also the first message's sequence number
  std::uint64_t returned = 0;  // admissions_returned() the tickets were measured against
  std::size_t taken = 0;       // how many of `want` were admitted
  bool retry = false;
  bool over_share = false;       // refused because the sender holds its fair share already
  std::uint8_t sender_cell = 0;  // the tag its slots carry (fair_share.hpp)
};

// Tickets our range may still take. Outstanding tickets (claims not yet returned) are briefly
// negative while a leak reclaim is corrected, which leaves the whole capacity; counters another
// process corrupted may be anything, so no step here can overflow.
inline std::size_t room_before(const inbox::impl& m, const admission& a) noexcept {
  const std::uint64_t outstanding = a.seq - a.returned;
  if (static_cast<std::int64_t>(outstanding) < 0) return m.capacity;
  return outstanding >= m.capacity ? 0 : static_cast<std::size_t>(m.capacity - outstanding);
}

[[gnu::always_inline]] inline admission admit(inbox::impl& m, std::string_view from,
                                              std::size_t want, bool& refreshed) noexcept {
  admission a;
  a.returned = m.admissions_returned();
  // relaxed: process-local hints; room and share are decided again with the ticket below.
  if (m.look_before_ticket.load(std::memory_order_relaxed)) {
    (void)m.refresh_freed();  // off the fast path: a stale view must not keep the inbox shut
    a.returned = m.admissions_returned();
    const std::uint64_t claims = m.h->claims.value.load(std::memory_order_relaxed);
    const std::uint64_t held = claims - a.returned;
    const std::uint64_t outstanding = static_cast<std::int64_t>(held) < 0 ? 0 : held;
    const detail::fair_decision fair = detail::fair_share(m, from, outstanding, want);
    if (fair.allowed == 0) {  // the share decides when it allows no more than the room, as below
      a.over_share = true;
      return a;
    }
    if (outstanding >= m.capacity) {
      detail::note_refusal(*m.h, fair.tag);
      return a;
    }
  }
  // acq_rel: a younger ticket that reads ours is ordered after our reads above.
  a.seq = m.h->claims.value.fetch_add(want, std::memory_order_acq_rel);  // sync: admission
  call_after_ticket_hook();
  const std::size_t room = room_before(m, a);
  const detail::fair_decision fair = detail::fair_share(m, from, m.capacity - room, want);
  a.sender_cell = fair.tag;
  a.taken = std::min({want, room, fair.allowed});
  if (a.taken > 0 && m.look_before_ticket.load(std::memory_order_relaxed))
    m.look_before_ticket.store(false, std::memory_order_relaxed);  // relaxed: a hint
  if (a.taken < want) {
    m.h->releases.value.fetch_add(want - a.taken,
                                  std::memory_order_release);  // sync: admission (give back)
    // The share decides when it allows no more than the room does; a stale freed_seen can only
    // be why room ran out, not why a share did.
    a.over_share = fair.allowed < want && fair.allowed <= room;
    if (!a.over_share) {
      detail::note_refusal(*m.h, fair.tag);
      a.retry = !refreshed && m.refresh_freed();
      refreshed = refreshed || a.retry;
    }
    if (a.over_share || (a.taken == 0 && !a.retry))
      m.look_before_ticket.store(true, std::memory_order_relaxed);  // relaxed: a hint
  }
  return a;
}

// What one call put into a regular lane.
struct pushed_run {
  std::size_t count = 0;
  push_result stopped = push_result::ok;
  bool published = false;
  published_run last;  // for after_publish
  push_receipt first;  // the receipt of msgs[0], once it went in
};

// Steps 1-4 for msgs[0..n), all of one regular lane: admission and one tail claim per
// attempt, then stamp, write and publish each slot. A slot lost to the consumer (we stalled
// past the grace period) passes its message to the next slot of the claim, and the rest of
// the run is tried again. drop_oldest evicts to make room when nothing was admitted.
// Always inlined: try_push calls it with n = 1, and the constant folds its loops away.
[[gnu::always_inline]] inline pushed_run push_regular(inbox::impl& m, std::size_t lane,
                                                      const message_view* msgs, std::size_t n,
                                                      overflow_policy policy,
                                                      std::uint32_t pid) noexcept {
  layout::header& h = *m.h;
  pushed_run r;
  bool refreshed = false;
  std::uint64_t lost_total = 0;
  while (r.count < n) {
    const std::size_t want = n - r.count;
    const admission a = admit(m, msgs[r.count].from, want, refreshed);
    if (a.over_share)
      h.count.fair_share_refusals.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    if (a.taken == 0) {
      if (a.retry) continue;
      // Evicting would not make room in a share, only drop other senders' messages.
      if (policy == overflow_policy::drop_oldest && !a.over_share && m.try_evict_oldest()) {
        (void)m.refresh_freed();  // the eviction freed a slot: count it before the next ticket
        continue;
      }
      h.count.rejected_full.fetch_add(1, std::memory_order_relaxed);        // relaxed: statistics
      m.refused_over_share.store(a.over_share, std::memory_order_relaxed);  // relaxed: a hint
      r.stopped = push_result::full;
      return r;
    }
    call_after_admission_hook();
    // relaxed: admission above already ordered us after the free of these slots.
    const std::uint64_t pos0 = h.tail[lane].value.fetch_add(a.taken, std::memory_order_relaxed);
    const std::uint64_t now = detail::realtime_ns();
    std::size_t lost = 0;
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < a.taken; ++i) {
      const std::uint64_t pos = pos0 + i;
      layout::slot_header* s = m.slot(lane, pos);
      // The next slot's control word was last written by the consumer's commit, so the stamp
      // below waits for that cache line (a locked CAS cannot run ahead): ask for it now,
      // while this slot's message is copied.
      if (i + 1 < a.taken) __builtin_prefetch(m.slot(lane, pos + 1), 1);
      const std::uint32_t lap = m.lap_of(lane, pos);
      touch_first_lap(m, lane, s);
      if (!stamp(s, lap, pid)) {
        ++lost;
        continue;
      }
      call_after_claim_hook();
      const std::size_t index = r.count + i - lost;
      const std::uint64_t seq = a.seq + i;
      const std::uint64_t id = m.id_prefix | (seq & ((1ull << 40) - 1));
      bytes = write_slot(s, msgs[index], id, seq, now, a.sender_cell);
      publish(s, lap, pid);
      if (index == 0) r.first = push_receipt{id, seq};
    }
    detail::count_in(h, a.sender_cell, a.taken - lost);
    r.published = r.published || lost < a.taken;
    r.last = published_run{lane, pos0 + a.taken, bytes, a.seq + a.taken, a.returned};
    r.count += a.taken - lost;
    lost_total += lost;
    // Losing more than a ring's worth of slots is lying counters, not a stall.
    if (lost_total > max_lost_stamps(m, lane)) {
      h.count.corrupt_pushes.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
      r.stopped = push_result::full;
      return r;
    }
    if (a.taken < want && !a.retry) {
      h.count.rejected_full.fetch_add(1, std::memory_order_relaxed);        // relaxed: statistics
      m.refused_over_share.store(a.over_share, std::memory_order_relaxed);  // relaxed: a hint
      r.stopped = push_result::full;
      return r;
    }
  }
  return r;
}

// Critical messages: their own ring and a Vyukov check on the slot instead of admission.
push_result push_critical(inbox::impl& m, const message_view& msg, std::uint32_t pid,
                          push_receipt* receipt) noexcept {
  layout::header& h = *m.h;
  auto& tail = h.tail[critical_lane].value;
  const auto& g = m.lanes[critical_lane];
  std::uint64_t failed_stamps = 0;
  for (;;) {
    std::uint64_t pos = tail.load(std::memory_order_relaxed);  // relaxed: validated by the ctl
    layout::slot_header* s = nullptr;
    // A slot already used at this lap means another producer moved the tail past pos before
    // stamping it, so re-reading the tail makes progress at once. A tail that never moves
    // is a corrupt file (fuzzing found one): give up instead of spinning forever.
    std::uint32_t stuck = 0;
    for (;;) {
      s = m.slot(critical_lane, pos);
      const std::uint64_t ctl = s->ctl.load(std::memory_order_acquire);  // sync: slot-free
      const std::uint64_t lap = pos >> g.shift;
      if (ctl == make_ctl(lap, 0)) {
        // relaxed: the slot ctl carries the synchronisation; the tail only hands out positions.
        if (tail.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (static_cast<std::int32_t>(layout::ctl_lap(ctl) - static_cast<std::uint32_t>(lap)) <
                 0) {
        h.count.rejected_full.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
        return push_result::full;
      } else {
        const std::uint64_t next = tail.load(std::memory_order_relaxed);  // relaxed: as above
        if (next == pos && ++stuck > max_stuck_tail_reads) {
          h.count.corrupt_pushes.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
          return push_result::full;
        }
        pos = next;
      }
    }
    // A sequence number, but no regular admission.
    const std::uint64_t seq =
        h.claims.value.fetch_add(1, std::memory_order_relaxed);  // relaxed: a unique number only
    h.releases.value.fetch_add(1, std::memory_order_relaxed);    // relaxed: as above
    const std::uint32_t lap = m.lap_of(critical_lane, pos);
    touch_first_lap(m, critical_lane, s);
    if (!stamp(s, lap, pid)) {
      if (++failed_stamps > max_lost_stamps(m, critical_lane)) {
        h.count.corrupt_pushes.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
        return push_result::full;
      }
      continue;
    }
    call_after_claim_hook();
    const std::uint64_t id = m.id_prefix | (seq & ((1ull << 40) - 1));
    (void)write_slot(s, msg, id, seq, detail::realtime_ns(), 0);
    publish(s, lap, pid);
    if (receipt != nullptr) *receipt = push_receipt{id, seq};
    return push_result::ok;
  }
}

}  // namespace

push_result inbox::try_push(const message_view& msg, push_receipt* receipt,
                            overflow_policy policy) noexcept {
  if (!p_) return push_result::closed;
  impl& m = *p_;
  const std::size_t lane = lane_of(msg);
  if (const push_result why = precheck(m, msg, lane); why != push_result::ok) return why;
  const auto pid = static_cast<std::uint32_t>(detail::self_pid());
  if (lane == critical_lane) {
    const push_result r = push_critical(m, msg, pid, receipt);
    if (r != push_result::ok) return r;
    m.ring_not_empty();
    return m.region.broken() ? push_result::broken : push_result::ok;
  }
  const pushed_run r = push_regular(m, lane, &msg, 1, policy, pid);
  if (r.count == 0) return r.stopped;
  m.ring_not_empty();
  if (m.region.broken()) return push_result::broken;  // what we wrote never reached the file
  after_publish(m, r.last);
  if (receipt != nullptr) *receipt = r.first;
  return push_result::ok;
}

std::size_t inbox::try_push_batch(const message_view* msgs, std::size_t n,
                                  push_result* stopped) noexcept {
  push_result why = push_result::ok;
  std::size_t done = 0;
  if (!p_) {
    why = push_result::closed;
    n = 0;
  }
  impl* m = p_.get();
  const auto pid = static_cast<std::uint32_t>(detail::self_pid());
  bool published_any = false;
  bool regular_published = false;
  published_run last;
  while (done < n) {
    const message_view& first = msgs[done];
    const std::size_t lane = lane_of(first);
    why = precheck(*m, first, lane);
    if (why != push_result::ok) break;
    if (lane == critical_lane) {
      why = push_critical(*m, first, pid, nullptr);
      if (why != push_result::ok) break;
      published_any = true;
      ++done;
      continue;
    }
    // A run of same-lane messages of one sender that fit, taken with one admission and one
    // tail claim (one sender: admission weighs a run against its sender's fair share).
    std::size_t run = 1;
    while (done + run < n && msgs[done + run].prio == first.prio &&
           msgs[done + run].from == first.from && fits(msgs[done + run], m->max_payload))
      ++run;
    const pushed_run r = push_regular(*m, lane, msgs + done, run, overflow_policy::reject, pid);
    done += r.count;
    if (r.published) {
      published_any = regular_published = true;
      last = r.last;
    }
    why = r.stopped;
    if (why != push_result::ok) break;
  }
  if (published_any) {
    m->ring_not_empty();
    if (m->region.broken()) {  // none of it reached the file, as far as anyone can tell
      done = 0;
      why = push_result::broken;
    } else if (regular_published) {
      after_publish(*m, last);
    }
  }
  if (stopped != nullptr) *stopped = why;
  return done;
}

void inbox::share_fairly(bool on) noexcept {
  if (p_) p_->share_fairly.store(on, std::memory_order_relaxed);  // relaxed: see fair_share
}

// drop-oldest: evicting is a consumer's act, so a producer may do it only while it can take
// the consumer lock itself (no consumer attached). With a live consumer the inbox drains by
// itself and the sender is told `full` instead. Like a consumer it first adopts the ledger
// (finishing a commit a dead consumer left half done), then commits each step through it, so
// every position ends counted exactly once: a skipped head as abandoned or corrupt, a
// published one as dropped.
bool inbox::impl::try_evict_oldest() noexcept {
  if (consuming || ::flock(fd, LOCK_EX | LOCK_NB) != 0) return false;
  layout::header& hd = *h;
  bool made_room = false;
  detail::ledger_state st;
  std::size_t bad_lane = 0;
  if (adopt_ledger(st, &bad_lane, false)) {
    // Commits the head slot of a lane as a consumer's commit would.
    auto commit_head = [&](std::size_t lane, std::uint64_t& counter) {
      const std::uint64_t pos = st.head[lane];
      ++st.head[lane];
      ++counter;
      write_ledger(st);
      slot(lane, pos)->ctl.store(make_ctl((pos >> lanes[lane].shift) + 1, 0),
                                 std::memory_order_release);  // sync: slot-free
      publish_freed(st);
    };
    // A skipped head (a dead producer's slot) makes room without losing a message; only
    // when there is none is the oldest published message dropped.
    std::size_t best_lane = lane_count;
    std::uint64_t best_seq = 0;
    for (std::size_t lane = 0; lane < critical_lane && !made_room; ++lane) {
      const std::uint64_t pos = st.head[lane];
      // relaxed: a bound only; the slot ctl below carries the synchronisation.
      if (hd.tail[lane].value.load(std::memory_order_relaxed) <= pos) continue;
      const layout::slot_header* s = slot(lane, pos);
      std::uint64_t ctl = 0;
      const layout::slot_state state = state_at(lane, pos, ctl);
      if (layout::is_skipped(state)) {
        commit_head(lane, state == layout::slot_state::abandoned ? st.abandoned : st.corrupt);
        made_room = true;
      } else if (state == layout::slot_state::published &&
                 (best_lane == lane_count || s->sequence < best_seq)) {
        best_lane = lane;
        best_seq = s->sequence;
      }
    }
    if (!made_room && best_lane != lane_count) {
      const std::uint8_t tag = slot(best_lane, st.head[best_lane])->sender_cell;
      if (tag != 0 &&
          tag <= layout::sender_cells)  // counted out before the commit, as a consumer does
        hd.senders[tag - 1].pending.fetch_sub(1,
                                              std::memory_order_relaxed);  // relaxed: an estimate
      commit_head(best_lane, st.dropped);
      made_room = true;
    }
  }
  ::flock(fd, LOCK_UN);
  return made_room;
}

wake_reason inbox::wait_not_full(std::chrono::nanoseconds timeout) noexcept {
  if (!p_) return wake_reason::timed_out;
  impl& m = *p_;
  layout::doorbell& d = m.h->not_full;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // A sender refused for its fair share is admitted again only after the consumer takes some of
  // its messages (a commit rings the bell); room it may not use must not end the wait.
  // relaxed: a process-local hint; the worst a stale value does is one early or one late wake.
  const bool for_share = m.refused_over_share.exchange(false, std::memory_order_relaxed);
  auto has_room = [&] { return !for_share && !full(); };
  for (int i = 0; i < 64; ++i) {
    if (has_room()) return m.region.broken() ? wake_reason::broken : wake_reason::rang;
    detail::cpu_relax();
  }
  for (;;) {
    if (m.region.broken()) return wake_reason::broken;
    detail::register_waiter(d.waiters);                                 // sync: not-full-dekker
    const std::uint32_t seen = d.bell.load(std::memory_order_acquire);  // sync: not-full-bell
    if (has_room()) {
      d.waiters.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only counts sleepers
      return wake_reason::rang;
    }
    detail::futex_wait(d.bell, seen, deadline - std::chrono::steady_clock::now());
    d.waiters.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only counts sleepers
    if (d.bell.load(std::memory_order_acquire) != seen)
      return wake_reason::rang;  // sync: not-full-bell
    if (std::chrono::steady_clock::now() >= deadline) return wake_reason::timed_out;
  }
}

}  // namespace sluice::inbox
