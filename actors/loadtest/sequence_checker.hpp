#pragma once
// Per-stream order, loss and duplicate accounting for load tests (the iceoryx habit: stress
// tests check per-producer sequence numbers so loss or reordering is caught, not just crashes).
//
// A stream is whatever the caller guarantees FIFO for: loadtest uses (sender, lane) within
// one sink, because the inbox orders per lane only. Each stream numbers its messages 0, 1,
// 2, ... A sequence above the next expected one opens a gap; a later arrival that fills the
// gap counts as reordered; a sequence seen before counts as duplicated. Whatever is still
// missing at the end, including a tail the sender says it sent but never arrived, is lost.
//
// Memory is proportional to the number of open gaps (kept as ranges), not to the message count.
// Pure logic: no clock, no I/O, not thread-safe (one checker per sink).
#include <cstdint>
#include <map>
#include <unordered_map>

namespace sluice::actors {

enum class sequence_verdict { in_order, gap, late, duplicate };

struct sequence_summary {
  std::uint64_t received = 0;  // every observation, duplicates included
  std::uint64_t unique = 0;    // distinct sequences seen
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;  // arrived after a higher sequence of the same stream
  std::uint64_t lost = 0;       // expected but never seen (0 until expect() was called)

  sequence_summary& operator+=(const sequence_summary& o) noexcept;
};

class sequence_checker {
 public:
  [[nodiscard]] sequence_verdict observe(std::uint64_t stream, std::uint64_t sequence);

  // The sender's final word: it sent `count` messages (sequences 0..count-1) on this stream.
  // Sequences at or above count that were observed are neither lost nor reordered; they show
  // up as received beyond what was expected, which the caller can compare.
  void expect(std::uint64_t stream, std::uint64_t count);

  sequence_summary summary() const;
  std::uint64_t missing(std::uint64_t stream) const;

  // Pack (sender, lane) into a stream id.
  static constexpr std::uint64_t stream_of(std::uint32_t sender, std::uint8_t lane) noexcept {
    return (std::uint64_t{sender} << 8) | lane;
  }

 private:
  struct stream_state {
    std::uint64_t next = 0;                       // one past the highest sequence seen
    std::map<std::uint64_t, std::uint64_t> gaps;  // [first, last] still missing below next
    std::uint64_t expected = 0;
    bool has_expected = false;
  };
  std::unordered_map<std::uint64_t, stream_state> streams_;
  sequence_summary totals_;
};

}  // namespace sluice::actors
