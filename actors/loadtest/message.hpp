#pragma once
// The payload of a synthetic load-test message: a fixed 32-byte header (who sent it, its
// place in the sender's stream, when it was sent) followed by filler up to the payload size.
// Both ends run on one machine, so fields are in host byte order; CLOCK_MONOTONIC is
// system-wide on Linux, so a timestamp taken in a sender process is comparable in the sink.
#include <time.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace sluice::actors {

inline constexpr std::uint32_t loadtest_magic = 0x544C4C53;  // "SLLT"
inline constexpr std::size_t loadtest_header_size = 32;

struct loadtest_header {
  std::uint32_t sender = 0;
  std::uint8_t lane = 0;        // inbox::priority value; order is per (sender, lane)
  std::uint64_t sequence = 0;   // per sender, sink and lane: 0, 1, 2, ...
  std::int64_t send_ns = 0;     // CLOCK_MONOTONIC when the send started
};

inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Writes the header into the first loadtest_header_size bytes of out.
inline void encode(const loadtest_header& h, char* out) noexcept {
  std::memcpy(out + 0, &loadtest_magic, 4);
  std::memcpy(out + 4, &h.sender, 4);
  std::memcpy(out + 8, &h.sequence, 8);
  std::memcpy(out + 16, &h.send_ns, 8);
  std::memcpy(out + 24, &h.lane, 1);
}

// nullopt when the payload is too short or does not carry the magic (not a loadtest message).
inline std::optional<loadtest_header> decode(std::string_view payload) noexcept {
  if (payload.size() < loadtest_header_size) return std::nullopt;
  std::uint32_t magic = 0;
  std::memcpy(&magic, payload.data(), 4);
  if (magic != loadtest_magic) return std::nullopt;
  loadtest_header h;
  std::memcpy(&h.sender, payload.data() + 4, 4);
  std::memcpy(&h.sequence, payload.data() + 8, 8);
  std::memcpy(&h.send_ns, payload.data() + 16, 8);
  std::memcpy(&h.lane, payload.data() + 24, 1);
  return h;
}

}  // namespace sluice::actors
