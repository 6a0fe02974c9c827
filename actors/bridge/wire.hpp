#pragma once
// What two bridges say to each other inside CAF messages (no CAF here): many bridge messages
// in one CAF message, and one cumulative acknowledgement for one or more such batches. Each
// CAF message of a link carries one atom and one string in this encoding (CAF 0.17 sends
// strings as they are, while a vector of records would need types registered on both sides
// and cost CAF's serializer per field):
//
//   data batch  : u64 first_seq | u32 count | count x record
//   record      : u64 id | u8 prio | u8 from_len | u8 type_len | u8 dest_len | u32 payload_len
//                 | from | type | dest | payload
//   ack         : u64 through | u32 n | n x u64 parked_seq | u32 m | m x grant
//   grant       : u8 dest_len | dest | u64 limit
//   names       : u32 n | n x (u8 len | name)                        (a want: dests to grant)
//
// Integers are little-endian. A record's seq is first_seq + its index: both sides count the
// records of one connection from 1, so an ack names them by number. `through` acknowledges
// every record up to it except the `parked` ones, which the receiver holds until their
// destination has room (each ack lists all of them again, so a later ack without one
// acknowledges it). Grants are the cumulative limits of credit.hpp.
//
// Everything read here comes from the peer: every length is checked against what is left and
// against the limits below before it is used.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inbox/inbox.hpp"
#include "inbox/layout.hpp"

namespace sluice::actors::wire {

// caf/io/basp/header.hpp: the fixed header before every BASP payload.
inline constexpr std::size_t basp_header_size = 32;

// The largest BASP payload a bridge accepts (capped_scribe.hpp refuses bigger frames before
// allocating them). One inbox slot (the largest any bus may have, so two buses with different
// slot sizes still agree) plus 64 KiB for the record's names and CAF's own framing. Handshakes,
// heartbeats, acks, credits and down messages are far smaller. Data batches are kept under it
// by batch_target_bytes and the static_assert below.
inline constexpr std::uint32_t max_basp_payload = inbox::layout::max_slot_size + 64 * 1024;

inline constexpr std::size_t batch_header_size = 12;
inline constexpr std::size_t record_header_size = 16;
inline constexpr std::size_t max_record_size = record_header_size + inbox::max_agent_name +
                                               inbox::max_type_name + inbox::max_agent_name +
                                               inbox::layout::max_slot_size;
// A batch takes records while it stays within this many bytes; a record that alone is larger
// travels alone. CAF's cost per message (a mailbox hop to the BASP broker, a header, a write,
// an acknowledgement and the far sender's wake-up) is larger than it looks: alternating runs of
// 2 M 256-byte messages moved a median 847 k msgs/s at 64 KiB, 1,103 k at 128 KiB and 1,008 k
// at 256 KiB, whose batches take a whole window in one (bench/README.md, 2026-12-07 evening).
inline constexpr std::size_t batch_target_bytes = 128 * 1024;
// CAF wraps the string in a message (atom, type names, actor ids): far less than this.
inline constexpr std::size_t caf_framing_reserve = 4 * 1024;
static_assert(batch_header_size + max_record_size + caf_framing_reserve <= max_basp_payload,
              "a batch of one largest message must pass the BASP frame cap");
static_assert(batch_target_bytes + caf_framing_reserve <= max_basp_payload,
              "a full batch must pass the BASP frame cap");

struct record {
  std::uint64_t id = 0;  // the message's id in the sending bus's outbound inbox
  std::uint8_t prio = 0;
  std::string_view from;
  std::string_view type;
  std::string_view dest;  // inbox on the receiving bus
  std::string_view payload;
};

[[nodiscard]] constexpr std::size_t record_size(const record& r) noexcept {
  return record_header_size + r.from.size() + r.type.size() + r.dest.size() + r.payload.size();
}

// Builds one data batch. Usage: start(first_seq), then fits()/add() per record, then take().
class batch_writer {
 public:
  void start(std::uint64_t first_seq);
  // Whether r may join the batch: always for the first record, else within the target.
  [[nodiscard]] bool fits(const record& r) const noexcept {
    return count_ == 0 || buf_.size() + record_size(r) <= batch_target_bytes;
  }
  // r's names must be at most 255 bytes each (agent names and types are far shorter).
  void add(const record& r);
  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  // The encoded batch; the writer is empty again.
  [[nodiscard]] std::string take();

 private:
  std::string buf_;
  std::uint32_t count_ = 0;
};

struct batch {
  std::uint64_t first_seq = 0;
  std::vector<record> records;  // views into the blob given to read_batch
};

// Parses a data batch; on malformed input says what is wrong instead.
[[nodiscard]] std::optional<std::string> read_batch(std::string_view blob, batch& out);

struct ack {
  std::uint64_t through = 0;
  std::vector<std::uint64_t> parked;
  std::vector<std::pair<std::string, std::uint64_t>> grants;
};

[[nodiscard]] std::string encode_ack(const ack& a);
[[nodiscard]] std::optional<ack> decode_ack(std::string_view blob);

[[nodiscard]] std::string encode_names(const std::vector<std::string>& names);
[[nodiscard]] std::optional<std::vector<std::string>> decode_names(std::string_view blob);

}  // namespace sluice::actors::wire
