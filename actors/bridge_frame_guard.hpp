#pragma once
// The size limit on CAF BASP frames a bridge reads from the network, checked before anything
// is allocated for them (no CAF here).
//
// CAF 0.17's BASP broker reads a 32-byte header and then allocates the payload length that
// header declares (up to 4 GiB) before looking at a byte of it, and its middleman has no
// setting that bounds this. So the bridge's front door (bridge_front_door.hpp) passes every
// byte it relays from the network to CAF through a basp_frame_guard, which follows the frame
// boundaries and stops a connection at the first header that declares more than the limit.
#include <array>
#include <cstddef>
#include <cstdint>

#include "inbox/layout.hpp"

namespace sluice::actors {

// caf/io/basp/header.hpp, serialized big-endian: operation u8, two padding bytes, flags u8,
// payload_len u32, operation_data u64, source_actor u64, dest_actor u64.
inline constexpr std::size_t basp_header_size = 32;
inline constexpr std::size_t basp_payload_len_offset = 4;

// The largest BASP payload a bridge sends. One CAF message carries one bridge message, which
// is at most one inbox slot (the largest slot any bus may have, so two buses with different
// slot sizes still agree) plus its addresses, type and CAF's own framing: a few hundred
// bytes, so 64 KiB is ample. Handshakes, heartbeats, acks, credits and down messages are far
// smaller. Whoever batches several bridge messages into one CAF message must stay within it.
inline constexpr std::uint32_t max_basp_payload = inbox::layout::max_slot_size + 64 * 1024;

class basp_frame_guard {
 public:
  explicit basp_frame_guard(std::uint32_t max_payload = max_basp_payload) noexcept
      : max_payload_(max_payload) {}

  // Follows the frames through the next n bytes of the stream (any split: a header may arrive
  // a byte at a time). False from the first header that declares a payload above the limit
  // on; the connection must then be closed without passing these bytes on.
  [[nodiscard]] bool admit(const char* data, std::size_t n) noexcept;

  // The payload length the last complete header declared (for the log line on a refusal).
  [[nodiscard]] std::uint32_t last_declared() const noexcept { return declared_; }
  [[nodiscard]] std::uint32_t max_payload() const noexcept { return max_payload_; }

 private:
  std::uint32_t max_payload_;
  std::uint64_t payload_left_ = 0;
  std::array<unsigned char, basp_header_size> header_{};
  std::size_t header_have_ = 0;
  std::uint32_t declared_ = 0;
  bool broken_ = false;
};

}  // namespace sluice::actors
