#pragma once
// Credit-based flow control for a bridge link (docs/architecture.md section 9), as pure state
// machines so they are tested without CAF, sockets or threads (and under TSan).
//
// Per link connection and destination inbox d, the receiving bridge grants a cumulative limit:
//   limit(d) = received(d) + max(0, free_slots(d) - parked(d))
// where received(d) counts every message for d that arrived on this connection (delivered,
// parked because d was full, or a duplicate). The sending bridge sends a message for d only
// while sent(d) < limit(d). Grants only grow and are absolute, so a late or reordered grant
// can never let the sender exceed what the receiver offered, and nothing needs to be returned.
// The receiver sends its grants with every acknowledgement, so while d has room the sender's
// credit stays ahead of what it sends (pipelined): it waits for a grant only for the first
// message to a destination on a connection (one round trip, asked for every new destination
// of a batch at once). A new connection starts every count from zero.
//
// Credits are per destination, and so is waiting: a message for a destination without credit
// holds back only the later messages for that destination. The sending bridge keeps a window
// of what it read from an inbox and not yet committed, reads on into it while earlier reads
// are on the wire (up to a bound), and commits its front as far as every message is safe. So
// a destination that stays full would still hold the window's front, and with it every other
// destination once the window is at its bound. When the front has waited too long on
// destinations whose credit is used up ("blocked": granted and exhausted), while more
// messages wait behind the window, the sending bridge moves those destinations' waiting
// messages into holding inboxes of its own (held_inbox.hpp), counts them as settled, and sends
// them later from there.
//
// At-least-once: a message is committed only when it and each message before it was
// acknowledged (the receiving bridge acknowledges only after the push into the destination
// inbox succeeded), moved into a holding inbox, or skipped as undeliverable. A link that drops
// leaves the rest uncommitted in the inbox, so the next connection (or the next bridge process
// after a crash) reads and sends it again; the receiver drops repeats it still remembers by id.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sluice::actors {

// Sending side of one connection. Messages come from numbered sources (the outbound inbox,
// holding inboxes), in delivery order; each source's window holds what was read from it and
// not yet dropped. A message keeps its index in its source's window from append to drop.
class send_window {
 public:
  using source_id = std::size_t;

  struct entry {
    std::uint64_t id = 0;   // stable across re-reads of the same message
    std::string_view dest;  // copied by load()
    bool skip = false;      // undeliverable (no envelope): never sent, settled at once
    bool moved = false;     // in a holding inbox already (an earlier connection moved it)
  };

  enum class state : std::uint8_t {
    waiting,   // for credit
    diverted,  // its destination spills: to be moved into its holding inbox
    sent,
    acked,
    moved,  // into a holding inbox
    skipped,
  };

  // Adds the messages read next from src to its window, in delivery order. With divert,
  // messages for a destination that spills (set_spilling) start diverted instead of waiting.
  void append(source_id src, const std::vector<entry>& batch, bool divert);
  // clear(src), then append: a window that starts again from index 0.
  void load(source_id src, const std::vector<entry>& batch, bool divert);

  // Calls f(src, index, seq) for every message that may go on the wire now, in the order they
  // must be sent, and marks each sent with the connection's next sequence number (from 1).
  template <class F>
  void take_sendable(F&& f);

  // An acknowledgement (wire.hpp): everything sent up to `through` arrived except `parked`.
  // Returns how many messages it settled.
  std::size_t on_ack(std::uint64_t through, const std::vector<std::uint64_t>& parked);
  // Raises the limit for dest; a smaller limit than one already granted changes nothing.
  void grant(std::string_view dest, std::uint64_t limit);
  // Destinations of loaded messages never granted nor asked for; each is returned once.
  [[nodiscard]] std::vector<std::string> take_wants();

  // Destinations with waiting messages in src whose credit is used up: granted and exhausted
  // (more credit comes only as the far inbox frees room). Not those still waiting for their
  // first grant.
  [[nodiscard]] std::vector<std::string> blocked(source_id src) const;
  // From now on dest's messages are diverted on load; its waiting messages in src are too.
  void set_spilling(std::string_view dest, source_id src);
  void clear_spilling(std::string_view dest);
  [[nodiscard]] bool spilling(std::string_view dest) const;
  // Indexes of src's diverted messages, in order.
  [[nodiscard]] std::vector<std::size_t> diverted(source_id src) const;
  // Those of them that may be moved now: no earlier message for the same destination is still
  // on its way. One sent before its destination began to spill must arrive (or, after a drop,
  // be moved) first; else a resend would land in the holding inbox behind later messages.
  [[nodiscard]] std::vector<std::size_t> movable(source_id src) const;
  void mark_moved(source_id src, std::size_t index);

  [[nodiscard]] bool loaded(source_id src) const noexcept;
  // Every message in src's window acknowledged, moved or skipped.
  [[nodiscard]] bool complete(source_id src) const noexcept;
  // The index after the longest run of settled messages at the front of src's window: every
  // message before it may be committed.
  [[nodiscard]] std::size_t settled_through(source_id src) const noexcept;
  // Drops the front of src's window up to `index` (settled_through at most).
  void drop_through(source_id src, std::size_t index);
  void clear(source_id src) noexcept;
  // The index of the first message in src's window, and the one the next appended gets.
  [[nodiscard]] std::size_t begin(source_id src) const noexcept;
  [[nodiscard]] std::size_t end(source_id src) const noexcept;
  [[nodiscard]] state state_of(source_id src, std::size_t index) const { return at(src, index).st; }
  [[nodiscard]] const std::string& dest_of(source_id src, std::size_t index) const {
    return dests_.at(at(src, index).dest).name;
  }

  [[nodiscard]] std::size_t in_flight() const noexcept { return log_.size() + parked_.size(); }
  // Messages that may still be sent under the current grants, summed over destinations.
  [[nodiscard]] std::uint64_t credits() const noexcept;

 private:
  struct dest_state {
    std::string name;
    std::uint64_t limit = 0;
    std::uint64_t sent = 0;
    bool granted = false;
    bool asked = false;
    bool spilling = false;
  };
  struct slot {
    std::uint64_t id;
    std::uint32_t dest;
    state st;
  };
  struct source {
    std::deque<slot> entries;  // entries[k] has index base + k
    std::size_t base = 0;
    std::size_t settled = 0;
    std::size_t first_open = 0;  // position in entries: no waiting message before it
    std::size_t diverted = 0;    // entries in state diverted: none on a link that never spills
  };
  struct sent_ref {
    std::uint64_t seq;
    source_id src;
    std::size_t index;
  };

  std::uint32_t intern(std::string_view dest);
  source& src_at(source_id src);
  [[nodiscard]] const slot& at(source_id src, std::size_t index) const;
  [[nodiscard]] slot& at(source_id src, std::size_t index);
  void settle(const sent_ref& r, state st);

  std::vector<dest_state> dests_;
  std::unordered_map<std::string, std::uint32_t> dest_index_;
  std::vector<std::string> wants_;
  std::vector<source> sources_;
  std::uint64_t next_seq_ = 1;
  std::deque<sent_ref> log_;                  // sent, not yet acknowledged, in seq order
  std::map<std::uint64_t, sent_ref> parked_;  // acknowledged as parked by the receiver
};

template <class F>
void send_window::take_sendable(F&& f) {
  for (source_id s = 0; s < sources_.size(); ++s) {
    auto& src = sources_[s];
    auto& e = src.entries;
    while (src.first_open < e.size() && e[src.first_open].st != state::waiting) ++src.first_open;
    for (std::size_t i = src.first_open; i < e.size(); ++i) {
      if (e[i].st != state::waiting) continue;
      auto& d = dests_[e[i].dest];
      if (!d.granted || d.sent >= d.limit) continue;
      ++d.sent;
      e[i].st = state::sent;
      const std::uint64_t seq = next_seq_++;
      log_.push_back({seq, s, src.base + i});
      f(s, src.base + i, seq);
    }
  }
}

// Receiving side: the counts behind the grants of one connection.
class credit_ledger {
 public:
  void on_received(const std::string& dest, std::uint64_t n = 1);
  void on_parked(const std::string& dest);
  void on_unparked(const std::string& dest);
  // The current limit for dest given its free regular slots; never below one granted before.
  std::uint64_t limit(const std::string& dest, std::uint64_t free_slots);
  // The limit when it grew since the last grant for dest (a credit message is worth sending).
  std::optional<std::uint64_t> fresh_grant(const std::string& dest, std::uint64_t free_slots);
  // Destinations the sender asked about or sent to on this connection.
  [[nodiscard]] std::vector<std::string> destinations() const;

 private:
  struct dest_state {
    std::uint64_t received = 0;
    std::uint64_t parked = 0;
    std::uint64_t granted = 0;
  };
  std::map<std::string, dest_state> dests_;
};

// The ids a receiving bridge delivered lately, so a batch resent after a link drop is not
// pushed twice. Bounded: the oldest id is forgotten first. Every message a bridge receives
// passes through insert, so it allocates nothing after construction: the ids in arrival order
// in a ring, and an open-addressing table (Robin Hood linear probing, at most half full).
class recent_ids {
 public:
  explicit recent_ids(std::size_t capacity);
  [[nodiscard]] bool contains(std::uint64_t id) const noexcept;
  void insert(std::uint64_t id);
  [[nodiscard]] std::size_t size() const noexcept { return count_; }

 private:
  [[nodiscard]] std::size_t home(std::uint64_t id) const noexcept;
  // How far the entry in slot lies past its home.
  [[nodiscard]] std::size_t distance(std::size_t slot) const noexcept;
  void erase(std::uint64_t id) noexcept;
  void place(std::uint64_t id);

  std::vector<std::uint64_t> order_;  // ring: the oldest at next_ once full
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  // Slots hold id + 1, so 0 marks an empty slot (id UINT64_MAX is never a message id).
  std::vector<std::uint64_t> table_;
  std::size_t mask_ = 0;
  static constexpr std::size_t max_probe = 64;  // the furthest an entry lies past its home
  std::unordered_set<std::uint64_t> overflow_;  // the rest (place says why); mostly empty
};

}  // namespace sluice::actors
