// Consumer side: pop_batch/commit over the lanes, skipping slots of dead producers, the
// not_empty doorbell, and peek() for readers that do not hold the consumer lock.
//
// Per lane the consumer reads positions [committed, cursor) without freeing them. commit()
// first writes the ledger (layout.hpp): the new heads together with what the batch's
// positions became (delivered, or skipped as abandoned / corrupt), published by one release
// store, so a consumer killed at any point leaves heads and counters agreeing. Only then does
// it free the slots (ctl -> (lap + 1, 0)) and publish `freed`, which gives the admissions
// back. A consumer killed before the ledger store leaves its batch pending for the next one
// (at-least-once); one killed after it leaves at most some committed slots unfreed just below
// the heads, which the next consumer frees when it attaches (impl::adopt_ledger), so they are
// never mistaken for stuck or corrupt slots.
//
// A slot that is claimed but not published is waited for. When it stays that way longer than
// the grace period, the consumer looks at the claimant: a dead pid (kill(pid, 0) == ESRCH), or
// no stamp at all (the producer died between tail claim and stamp), turns it into abandoned
// with a CAS, so a late producer notices (its stamp CAS fails) and retries elsewhere. A live,
// merely slow producer is waited for. A position claimed before that wait began has waited as
// long, so the slots behind a given-up one that were claimed with it (a batch push's run) are
// given up in the same pass. Marks are counted when the batch that passes over them is
// committed, so a consumer that dies in between does not count them twice.
#include <algorithm>
#include <cstring>
#include <optional>

#include "inbox/fair_share.hpp"
#include "inbox/futex.hpp"
#include "inbox/impl.hpp"
#include "inbox/pid_clock.hpp"
#include "inbox/prefetch.hpp"
#include "inbox/test_hooks.hpp"

namespace sluice::inbox {

using layout::make_ctl;

bool decode_slot(const layout::slot_header* s, std::uint32_t max_payload, std::size_t lane,
                 received_message& out) noexcept {
  // Read every length once into a local: a hostile writer may change shared memory between
  // the check and the use, so only the checked copies are used.
  const std::uint32_t payload_len = s->payload_len;
  const std::uint8_t from_len = s->from_len;
  const std::uint8_t type_len = s->type_len;
  const std::uint8_t prio = s->prio;
  if (payload_len > max_payload || from_len > max_agent_name || type_len > max_type_name ||
      prio != lane)
    return false;
  out.id = s->id;
  out.sequence = s->sequence;
  out.sent_ns = s->sent_ns;
  out.prio = static_cast<priority>(prio);
  const char* bytes = reinterpret_cast<const char*>(s) + layout::slot_fixed_size;
  out.from = std::string_view(bytes, from_len);
  out.type = std::string_view(bytes + from_len, type_len);
  out.payload = std::string_view(bytes + from_len + type_len, payload_len);
  return true;
}

std::size_t inbox::impl::take(std::size_t lane, received_message* out, std::size_t k) noexcept {
  auto& c = cons;
  const auto& g = lanes[lane];
  std::size_t got = 0;
  if (!lane_in_use(lane)) return 0;
  while (got < k) {
    const std::uint64_t pos = c.cursor[lane];
    if (pos - c.committed.head[lane] >= g.ring)
      break;  // the rest of the ring is our own uncommitted batch
    std::uint64_t ctl = 0;
    switch (state_at(lane, pos, ctl)) {
      case layout::slot_state::published:
        break;
      case layout::slot_state::abandoned:
        ++c.read.abandoned;
        ++c.cursor[lane];
        continue;
      case layout::slot_state::corrupt:
        ++c.read.corrupt;
        ++c.cursor[lane];
        continue;
      case layout::slot_state::free:
        // Waiting for a producer: fetch the next slot's control word now, or taking the
        // message would end with a cache miss on it (slots a page apart are long evicted when
        // they come round). Not when this slot is claimed: its producer is then likely
        // writing the next one too, and reading it would take the line from under it.
        detail::prefetch_for_read(slot(lane, pos + 1));
        return got;
      case layout::slot_state::claimed:
      case layout::slot_state::other_lap:  // empty, or corrupt: resolve_stuck decides
        c.blocked = true;
        return got;
    }
    layout::slot_header* s = slot(lane, pos);
    if (!decode_slot(s, max_payload, lane, out[got])) {
      // A published slot with lying lengths: mark it for good (counted when committed, by the
      // pass over the mark below), never follow it.
      std::uint64_t expected = ctl;
      (void)s->ctl.compare_exchange_strong(
          expected, make_ctl(lap_of(lane, pos), layout::corrupt_owner),
          std::memory_order_relaxed);  // relaxed: no data is read from it
      continue;
    }
    detail::count_out(c, s->sender_cell);
    c.pending[lane].valid = false;
    ++c.cursor[lane];
    ++got;
  }
  return got;
}

bool inbox::impl::resolve_stuck(bool read_tails) noexcept {
  auto& c = cons;
  if (read_tails) watch_admissions();
  bool skipped = false;
  std::uint64_t now = 0;
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    const auto& g = lanes[lane];
    auto& p = c.pending[lane];
    if (!lane_in_use(lane)) continue;
    // From the cursor on, as long as slots are given up: a batch push claims all its positions
    // at once, so a producer killed in it leaves a run of them unpublished, and every one that
    // was claimed before the first one's wait began has waited as long as that one. Timed one
    // by one from when each reaches the cursor, a run of hundreds would hold the lane for a
    // grace period each.
    for (std::uint64_t pos = c.cursor[lane]; pos - c.committed.head[lane] < g.ring; ++pos) {
      std::uint64_t ctl = 0;
      const layout::slot_state st = state_at(lane, pos, ctl);
      if (st == layout::slot_state::published) break;
      if (layout::is_skipped(st)) continue;  // take() passes over it
      const bool behind_timed = p.valid && pos > p.pos && pos < p.claimed_below;
      if (st != layout::slot_state::claimed && !behind_timed) {
        // Free-looking slot: stuck only if a producer took the position (tail moved past it).
        if (!read_tails) break;
        const std::uint64_t tail =
            h->tail[lane].value.load(std::memory_order_relaxed);  // relaxed: a hint
        if (tail <= pos || tail - pos > 2ull * g.ring) {
          if (pos == c.cursor[lane]) p.valid = false;
          break;
        }
      }
      if (now == 0) now = detail::monotonic_ns();
      if (behind_timed) {
        p.pos = pos;  // claimed no later than since_ns: it keeps that wait
        p.ctl = ctl;
      } else if (!p.valid || p.pos != pos || p.ctl != ctl) {
        const std::uint64_t tail =
            h->tail[lane].value.load(std::memory_order_relaxed);  // relaxed: a bound only
        p = detail::pending_claim{pos, ctl, now, true, tail};
        remember_stuck(lane, p);
        break;
      }
      if (now - p.since_ns < static_cast<std::uint64_t>(grace.count())) break;
      if (st == layout::slot_state::claimed &&
          detail::process_alive(static_cast<pid_t>(layout::claimant(ctl)))) {
        p.since_ns = now;  // alive and slow: keep waiting, look again after another grace period
        remember_stuck(lane, p);
        break;
      }
      if (!mark_skipped(lane, pos, ctl)) break;
      skipped = true;  // p stays on pos, so the positions claimed with it keep its wait
    }
  }
  return skipped;
}

bool inbox::impl::mark_skipped(std::size_t lane, std::uint64_t pos, std::uint64_t ctl) noexcept {
  const std::uint32_t lap = lap_of(lane, pos);
  std::uint64_t expected = ctl;
  // acq_rel: wins the slot against a late stamp (see push.cpp step 3). A slot at another
  // lap than its position's is a lie (committed-but-unfreed slots sit below the head, never
  // here), so it is marked corrupt, a dead or missing claimant abandoned.
  const std::uint32_t mark = layout::decode(ctl, lap) == layout::slot_state::other_lap
                                 ? layout::corrupt_owner
                                 : layout::abandoned_owner;
  return slot(lane, pos)->ctl.compare_exchange_strong(expected, make_ctl(lap, mark),
                                                      std::memory_order_acq_rel);  // sync: abandon
}

void inbox::impl::remember_stuck(std::size_t lane, const detail::pending_claim& p) noexcept {
  layout::stuck_claim& r = h->stuck.lane[lane];
  // relaxed: written and read only by flock holders, which the flock orders.
  r.since_ns.store(0, std::memory_order_relaxed);
  r.pos.store(p.pos, std::memory_order_relaxed);
  r.ctl.store(p.ctl, std::memory_order_relaxed);
  r.since_ns.store(p.since_ns, std::memory_order_relaxed);
}

void inbox::impl::adopt_stuck_claims() noexcept {
  const std::uint64_t now = detail::monotonic_ns();
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    auto& p = cons.pending[lane];
    p = detail::pending_claim{};
    if (!lane_in_use(lane)) continue;
    const auto& g = lanes[lane];
    const std::uint64_t head = cons.committed.head[lane];
    const std::uint64_t tail =
        h->tail[lane].value.load(std::memory_order_relaxed);  // relaxed: a bound only
    // relaxed: the record is written and read only by flock holders (we hold it now).
    const layout::stuck_claim& r = h->stuck.lane[lane];
    const std::uint64_t since = std::min(r.since_ns.load(std::memory_order_relaxed), now);
    const std::uint64_t seen_pos = r.pos.load(std::memory_order_relaxed);
    const std::uint64_t seen_ctl = r.ctl.load(std::memory_order_relaxed);
    // The slots at the head that a claimant left: one stamped by a process that is gone will
    // never be published, so it is skipped now rather than after a grace period, and a one-shot
    // consumer gets past it on its first call. One not stamped (its producer died between
    // position claim and stamp) is skipped once the grace period has passed since an earlier
    // consumer first saw it (the record in the file). Slots behind a published one are left
    // to the running consumer's own sweep.
    for (std::uint64_t pos = head; pos < tail && pos - head < g.ring; ++pos) {
      std::uint64_t ctl = 0;
      const layout::slot_state st = state_at(lane, pos, ctl);
      if (layout::is_skipped(st)) continue;
      if (st == layout::slot_state::published) break;
      const bool stamped = st == layout::slot_state::claimed;
      if (stamped && !detail::process_alive(static_cast<pid_t>(layout::claimant(ctl)))) {
        if (mark_skipped(lane, pos, ctl)) continue;
        break;
      }
      const bool timed = since != 0 && seen_pos == pos && seen_ctl == ctl;
      if (timed && !stamped && now - since >= static_cast<std::uint64_t>(grace.count())) {
        if (mark_skipped(lane, pos, ctl)) continue;
        break;
      }
      // Still within its grace period, or stamped by a live (slow) producer: keep timing it.
      p = detail::pending_claim{pos, ctl, timed ? since : now, true};
      if (!timed) remember_stuck(lane, p);
      break;
    }
  }
}

// Gives back, while the consumer runs, admissions that producers killed between admission
// and position claim hold forever. One estimate may also count a live producer caught
// between its two steps, so only the smallest estimate over a whole grace period (at least
// two looks) is acted on: a live producer passes its two steps within the grace period, as
// resolve_stuck also assumes. Should every look still have caught some live producer, the
// excess shows later as a negative estimate (never below the truth) and is taken back.
void inbox::impl::watch_admissions() noexcept {
  auto& c = cons;
  const std::int64_t estimate = leaked_admissions();
  const std::uint64_t now = detail::monotonic_ns();
  if (c.leak_samples == 0 || estimate < c.leak_min) c.leak_min = estimate;
  if (c.leak_samples++ == 0) c.leak_since_ns = now;
  if (c.leak_samples < 2 || now - c.leak_since_ns < static_cast<std::uint64_t>(grace.count()))
    return;
  if (c.leak_min > 0) {
    h->releases.value.fetch_add(static_cast<std::uint64_t>(c.leak_min),
                                std::memory_order_release);  // sync: admission
    ring_not_full();
  } else if (c.leak_min < 0) {
    // Negated in unsigned arithmetic: a hostile file may make the estimate INT64_MIN.
    h->releases.value.fetch_sub(0 - static_cast<std::uint64_t>(c.leak_min),
                                std::memory_order_release);  // sync: admission
  }
  c.leak_samples = 0;
}

bool inbox::impl::sweep_due() noexcept {
  // The sweep reads the producers' counters (tails, claims), which turns their cache lines
  // shared: each producer's next ticket and tail claim then wait for a cross-core transfer.
  // Swept every 64 empty polls, a spinning consumer did that every few microseconds, so most
  // messages paid for it; dead producers only need finding within a grace period. The clock
  // is read once per 64 empty polls.
  auto& c = cons;
  if ((++c.empty_polls & 63u) != 0) return false;
  const std::uint64_t now = detail::monotonic_ns();
  if (now - c.last_sweep_ns < static_cast<std::uint64_t>(grace.count()) / 8) return false;
  c.last_sweep_ns = now;
  return true;
}

bool inbox::impl::readable_at(const std::uint64_t* cursor,
                              const std::uint64_t* committed) const noexcept {
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    const std::uint64_t pos = cursor[lane];
    if (pos - committed[lane] >= lanes[lane].ring || !lane_in_use(lane)) continue;
    std::uint64_t ctl = 0;
    const layout::slot_state st = state_at(lane, pos, ctl);
    if (st == layout::slot_state::published || layout::is_skipped(st)) return true;
  }
  return false;
}

bool inbox::impl::has_work(bool may_resolve) noexcept {
  return readable_at(cons.cursor, cons.committed.head) || (may_resolve && resolve_stuck(true));
}

bool inbox::impl::anything_in_flight() const noexcept {
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    // relaxed: a hint that decides how long to sleep, nothing is read through it.
    if (h->tail[lane].value.load(std::memory_order_relaxed) != cons.cursor[lane]) return true;
  }
  return false;
}

namespace {

// Spins a moment on work(false), then sleeps on the not-empty doorbell until it rings,
// work(true) holds or the time runs out. Each sleep lasts at most `slice_cap()` (nullopt:
// no cap), so that what work(true) resolves on its own is resolved on time.
template <class Work, class SliceCap>
wake_reason wait_for_work(const inbox::impl& m, std::chrono::nanoseconds timeout, Work work,
                          SliceCap slice_cap) noexcept {
  layout::doorbell& d = m.h->not_empty;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int i = 0; i < 64; ++i) {
    if (work(false)) return m.region.broken() ? wake_reason::broken : wake_reason::rang;
    detail::cpu_relax();
  }
  for (;;) {
    if (m.region.broken()) return wake_reason::broken;
    detail::register_waiter(d.waiters);                                 // sync: not-empty-dekker
    const std::uint32_t seen = d.bell.load(std::memory_order_acquire);  // sync: not-empty-bell
    if (work(true)) {
      d.waiters.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only counts sleepers
      return wake_reason::rang;
    }
    auto slice = deadline - std::chrono::steady_clock::now();
    if (const std::optional<std::chrono::nanoseconds> cap = slice_cap())
      slice = std::min<std::chrono::nanoseconds>(slice, *cap);
    detail::futex_wait(d.bell, seen, slice);
    d.waiters.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only counts sleepers
    if (d.bell.load(std::memory_order_acquire) != seen)
      return wake_reason::rang;  // sync: not-empty-bell
    if (work(true)) return wake_reason::rang;
    if (std::chrono::steady_clock::now() >= deadline) return wake_reason::timed_out;
  }
}

}  // namespace

wake_reason inbox::wait_not_empty(std::chrono::nanoseconds timeout) noexcept {
  if (!p_) return wake_reason::timed_out;
  impl& m = *p_;
  if (!m.consuming) {
    // Without a consumer attached here, "work" is judged from the committed heads.
    read_position from;
    const detail::ledger_state committed = m.read_ledger();
    std::copy(std::begin(committed.head), std::end(committed.head), std::begin(from.cursor));
    std::copy(std::begin(committed.head), std::end(committed.head), std::begin(from.committed));
    return wait_past(from, timeout);
  }
  return wait_for_work(
      m, timeout, [&m](bool may_resolve) { return m.has_work(may_resolve); },
      [&m]() -> std::optional<std::chrono::nanoseconds> {
        // A claimed, unpublished slot may belong to a dead producer that will never ring, and
        // an admission no position explains to one that died before its claim: look again
        // every quarter grace period, so the slot is skipped and the admission given back
        // (watch_admissions, in has_work) on time, not only when the caller's wait ends.
        if (!m.anything_in_flight() && m.leaked_admissions() <= 0) return std::nullopt;
        return std::max<std::chrono::nanoseconds>(m.grace / 4, std::chrono::milliseconds(1));
      });
}

wake_reason inbox::wait_past(const read_position& from,
                             std::chrono::nanoseconds timeout) const noexcept {
  if (!p_) return wake_reason::timed_out;
  const impl& m = *p_;
  return wait_for_work(
      m, timeout, [&](bool) { return m.readable_at(from.cursor, from.committed); },
      [] { return std::optional<std::chrono::nanoseconds>{}; });
}

void consumer::resolve_stuck() noexcept {
  if (held()) (void)s_->in->resolve_stuck(true);
}

read_position consumer::position() const noexcept {
  const inbox::impl& m = *s_->in;
  read_position p;
  std::copy(std::begin(m.cons.cursor), std::end(m.cons.cursor), std::begin(p.cursor));
  std::copy(std::begin(m.cons.committed.head), std::end(m.cons.committed.head),
            std::begin(p.committed));
  return p;
}

bool consumer::arm(const bell& b) noexcept {
  if (!held()) return false;
  inbox::impl& m = *s_->in;
  auto& socket = m.h->not_empty.socket;
  b.drain();  // a datagram from an earlier arming would wake the loop for nothing
  s_->armed_bell = b.name();
  // A locked read-modify-write: the StoreLoad barrier before the re-check (register_waiter).
  (void)socket.exchange(b.name(), std::memory_order_seq_cst);  // sync: not-empty-dekker
  if (m.region.broken() || m.has_work(true)) {
    disarm();
    return false;
  }
  return true;
}

void consumer::disarm() noexcept {
  if (s_->armed_bell == 0) return;
  std::uint64_t mine = s_->armed_bell;
  s_->armed_bell = 0;
  // relaxed: only takes back our own name; a ringer that took it first sends a datagram
  // that the next arm() drains.
  s_->in->h->not_empty.socket.compare_exchange_strong(mine, 0, std::memory_order_relaxed);
}

std::size_t consumer::pop_batch(received_message* out, std::size_t max) noexcept {
  if (!held()) return 0;
  inbox::impl& m = *s_->in;
  auto& c = m.cons;
  if (m.region.broken()) return 0;
  // Back to the last commit: the uncommitted messages are read again.
  std::copy(std::begin(c.committed.head), std::end(c.committed.head), std::begin(c.cursor));
  c.wrr = c.wrr_committed;
  c.read.delivered = c.committed_tally.delivered;
  c.read.abandoned = c.committed_tally.abandoned;
  c.read.corrupt = c.committed_tally.corrupt;
  if (c.any_counted)
    std::copy(std::begin(c.committed_tally.counted_out), std::end(c.committed_tally.counted_out),
              std::begin(c.read.counted_out));
  s_->marks.clear();
  return read_on(out, max);
}

std::size_t consumer::pop_next(received_message* out, std::size_t max, std::uint64_t& batch) {
  if (!held()) return 0;
  inbox::impl& m = *s_->in;
  if (m.region.broken()) return 0;
  const std::size_t n = read_on(out, max);
  if (n == 0) return 0;
  auto& c = m.cons;
  detail::read_mark& mark = s_->marks.emplace_back();
  mark.number = batch = ++s_->last_mark;
  std::copy(std::begin(c.cursor), std::end(c.cursor), std::begin(mark.cursor));
  mark.wrr = c.wrr;
  mark.tally = c.read;
  return n;
}

std::size_t consumer::read_on(received_message* out, std::size_t max) noexcept {
  inbox::impl& m = *s_->in;
  auto& c = m.cons;
  c.blocked = false;
  std::size_t n = m.take(critical_lane, out, max);
  detail::weighted_round_robin(c.wrr, max - n, [&](std::size_t lane, std::size_t want) {
    const std::size_t got = m.take(lane, out + n, want);
    n += got;
    return got;
  });
  // When a lane stopped at a claimed slot, or every eighth of a grace period, look for slots
  // of dead producers, and after skipping some continue from where the cursors stand.
  if (n < max) {
    const bool periodic = m.sweep_due();
    if ((c.blocked || periodic) && m.resolve_stuck(periodic)) {
      for (const std::size_t lane : delivery_order) {
        if (n < max) n += m.take(lane, out + n, max - n);
      }
    }
  }
  c.read.delivered += n;
  // What was read after a fault is zeros, not messages: deliver none of it.
  return m.region.broken() ? 0 : n;
}

std::vector<received_message> consumer::pop_batch(std::size_t max) {
  std::vector<received_message> out(max);
  out.resize(pop_batch(out.data(), max));
  return out;
}

void consumer::commit() noexcept {
  if (!held()) return;
  inbox::impl& m = *s_->in;
  auto& c = m.cons;
  s_->marks.clear();
  commit_to(c.cursor, c.wrr, c.read);
  c.any_counted = false;  // the tallies agree again
}

bool consumer::commit_through(std::uint64_t batch) noexcept {
  if (!held()) return false;
  auto& marks = s_->marks;
  const auto it = std::find_if(marks.begin(), marks.end(),
                               [&](const detail::read_mark& k) { return k.number == batch; });
  if (it == marks.end()) return false;
  commit_to(it->cursor, it->wrr, it->tally);
  marks.erase(marks.begin(), it + 1);
  return true;
}

void consumer::commit_to(const std::uint64_t* cursor, const detail::wrr_state& wrr,
                         const detail::read_tally& tally) noexcept {
  inbox::impl& m = *s_->in;
  auto& c = m.cons;
  layout::header& h = *m.h;
  c.wrr_committed = wrr;
  // At most one heartbeat store per millisecond: producers read `closed` on the same line
  // on every push, so a store per commit would cost them a cache miss per batch.
  const std::uint64_t now = detail::monotonic_ns();
  if (now - c.heartbeat_ns >= 1'000'000) {
    c.heartbeat_ns = now;
    h.consumer.heartbeat_ns.store(now, std::memory_order_relaxed);  // relaxed: informational
  }
  if (std::equal(cursor, cursor + lane_count, std::begin(c.committed.head))) return;
  detail::apply_counted_out(h, c, tally);
  // 1. The ledger: new heads and what the positions became, in one store.
  const detail::ledger_state before = c.committed;
  detail::ledger_state& next = c.committed;
  std::copy(cursor, cursor + lane_count, std::begin(next.head));
  next.dequeued += tally.delivered - c.committed_tally.delivered;
  next.abandoned += tally.abandoned - c.committed_tally.abandoned;
  next.corrupt += tally.corrupt - c.committed_tally.corrupt;
  c.committed_tally = tally;
  m.write_ledger(next);
#ifdef SLUICE_INBOX_TEST_HOOKS
  if (test_hooks::inside_commit != nullptr) test_hooks::inside_commit();
#endif
  // 2. Free the slots for the next lap, then 3. give the admissions back.
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    const auto& g = m.lanes[lane];
    for (std::uint64_t pos = before.head[lane]; pos != next.head[lane]; ++pos) {
      m.slot(lane, pos)->ctl.store(make_ctl((pos >> g.shift) + 1, 0),
                                   std::memory_order_release);  // sync: slot-free
    }
  }
  m.publish_freed(next);
  m.ring_not_full();
}

std::uint64_t consumer::clear() noexcept {
  if (!held()) return 0;
  std::uint64_t total = 0;
  received_message buf[64];
  for (;;) {
    const std::size_t n = pop_batch(buf, 64);
    commit();
    total += n;
    if (n == 0) return total;
  }
}

std::vector<message> inbox::peek(std::size_t max) const {
  std::vector<message> out;
  if (!p_) return out;
  const impl& m = *p_;
  const detail::ledger_state committed = m.read_ledger();
  std::uint64_t cursor[lane_count];
  std::copy(std::begin(committed.head), std::end(committed.head), std::begin(cursor));
  // Copies up to `want` messages of a lane from its cursor while they are published; re-checks
  // ctl after each copy, since a consumer may free and a producer reuse the slot meanwhile.
  auto copy = [&](std::size_t lane, std::size_t want) -> std::size_t {
    std::size_t got = 0;
    if (!m.lane_in_use(lane)) return 0;
    while (got < want && cursor[lane] - committed.head[lane] < m.lanes[lane].ring) {
      const std::uint64_t pos = cursor[lane];
      std::uint64_t ctl = 0;
      const layout::slot_state st = m.state_at(lane, pos, ctl);
      if (layout::is_skipped(st)) {
        ++cursor[lane];
        continue;
      }
      if (st != layout::slot_state::published) break;
      const layout::slot_header* s = m.slot(lane, pos);
      received_message r{};
      if (!decode_slot(s, m.max_payload, lane, r)) {
        ++cursor[lane];
        continue;
      }
      message msg{r.id,
                  r.sequence,
                  r.sent_ns,
                  r.prio,
                  std::string(r.from),
                  std::string(r.type),
                  std::string(r.payload)};
      // A read-modify-write that changes nothing: its release half keeps the copy above
      // before this re-read of ctl (a plain acquire load would not; fences break TSan).
      if (const_cast<layout::slot_header*>(s)->ctl.fetch_add(0, std::memory_order_acq_rel) != ctl)
        break;
      out.push_back(std::move(msg));
      ++cursor[lane];
      ++got;
    }
    return got;
  };
  copy(critical_lane, max);
  detail::wrr_state wrr;
  detail::weighted_round_robin(wrr, max - out.size(), copy);
  if (m.region.broken()) out.clear();  // zeros read after a fault are not messages
  return out;
}

std::optional<std::uint64_t> inbox::oldest_sent_ns() const noexcept {
  if (!p_) return std::nullopt;
  const impl& m = *p_;
  const detail::ledger_state committed = m.read_ledger();
  std::optional<std::uint64_t> oldest;
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    if (!m.lane_in_use(lane)) continue;
    // Within a lane positions are claimed in send order, so its first readable message is its
    // oldest; skipped slots (abandoned, corrupt) are passed over as peek() does.
    for (std::uint64_t pos = committed.head[lane]; pos - committed.head[lane] < m.lanes[lane].ring;
         ++pos) {
      std::uint64_t ctl = 0;
      const layout::slot_state st = m.state_at(lane, pos, ctl);
      if (layout::is_skipped(st)) continue;
      if (st != layout::slot_state::published) break;
      const layout::slot_header* s = m.slot(lane, pos);
      const std::uint64_t sent = s->sent_ns;
      // As in peek(): a slot freed and reused while it was read is not this lane's oldest.
      if (const_cast<layout::slot_header*>(s)->ctl.fetch_add(0, std::memory_order_acq_rel) == ctl)
        oldest = std::min(oldest.value_or(sent), sent);
      break;
    }
  }
  if (m.region.broken()) return std::nullopt;  // zeros read after a fault are not messages
  return oldest;
}

}  // namespace sluice::inbox
