#pragma once
// Credit-based flow control for a bridge link (docs/architecture.md section 9), as pure state machines so
// they are tested without CAF, sockets or threads (and under TSan).
//
// Per link connection and destination inbox d, the receiving bridge grants a cumulative limit:
//   limit(d) = received(d) + max(0, free_slots(d) - parked(d))
// where received(d) counts every message for d that arrived on this connection (delivered,
// parked because d was full, or a duplicate). The sending bridge sends message k for d only
// while sent(d) < limit(d). Grants only grow and are absolute, so a late or reordered grant
// can never let the sender exceed what the receiver offered, and nothing needs to be returned.
// A new connection starts both counts from zero.
//
// At-least-once: the sending bridge reads a batch from its outbound inbox and commits it only
// when every message of the batch was acknowledged, and the receiving bridge acknowledges only
// after the push into the destination inbox succeeded. A link that drops leaves the batch
// uncommitted in the outbound inbox, so the next connection (or the next bridge process after
// a crash) reads and sends it again; the receiver drops repeats it still remembers by id.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace sluice::actors {

// Sending side: one outbound batch in flight at a time, sent strictly in order.
class credit_window {
 public:
  struct entry {
    std::uint64_t id = 0;  // the outbound inbox's message id (stable across re-reads)
    std::string dest;
    bool skip = false;  // undeliverable (no envelope): never sent, counts as acknowledged
  };

  // A batch read from the outbound inbox, in delivery order. Replaces an empty window only.
  void load(std::vector<entry> batch);
  // The next message that may go on the wire now: nullopt when every message was sent or the
  // first unsent one waits for credit (later ones wait behind it, which keeps order).
  [[nodiscard]] std::optional<std::size_t> next_sendable() const noexcept;
  void mark_sent(std::size_t index);
  // false for an id that is not in flight (late ack from an old connection, or a repeat).
  bool ack(std::uint64_t id);
  // Raises the limit for dest; a smaller limit than one already granted changes nothing.
  void grant(const std::string& dest, std::uint64_t limit);
  // Destinations that hold up the batch and were never asked for credit; each is returned once.
  [[nodiscard]] std::vector<std::string> take_wants();

  [[nodiscard]] const entry& at(std::size_t index) const { return batch_.at(index); }
  [[nodiscard]] bool empty() const noexcept { return batch_.empty(); }
  // Every message of the loaded batch acknowledged (or skipped): the batch may be committed.
  [[nodiscard]] bool complete() const noexcept {
    return !batch_.empty() && acked_ == batch_.size();
  }
  void clear() noexcept;

  [[nodiscard]] std::size_t in_flight() const noexcept { return sent_count_ - acked_sent_; }
  // Messages that may still be sent under the current grants, summed over destinations.
  [[nodiscard]] std::uint64_t credits() const noexcept;

 private:
  struct dest_state {
    std::uint64_t limit = 0;
    std::uint64_t sent = 0;
    bool granted = false;
    bool asked = false;
  };
  std::vector<entry> batch_;
  std::vector<bool> sent_;
  std::vector<bool> acked_flags_;
  std::size_t cursor_ = 0;  // first unsent message
  std::size_t acked_ = 0;
  std::size_t sent_count_ = 0;
  std::size_t acked_sent_ = 0;
  std::map<std::string, dest_state> dests_;  // lives for one connection, across batches
};

// Receiving side: the counts behind the grants of one connection.
class credit_ledger {
 public:
  void on_received(const std::string& dest);
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
// pushed twice. Bounded: the oldest id is forgotten first.
class recent_ids {
 public:
  explicit recent_ids(std::size_t capacity) : capacity_(capacity) {}
  [[nodiscard]] bool contains(std::uint64_t id) const { return set_.count(id) != 0; }
  void insert(std::uint64_t id);
  [[nodiscard]] std::size_t size() const noexcept { return order_.size(); }

 private:
  std::size_t capacity_;
  std::deque<std::uint64_t> order_;
  std::unordered_set<std::uint64_t> set_;
};

}  // namespace sluice::actors
