#pragma once
// The payload of a synthetic load-test message: a fixed 32-byte header (who sent it, its
// place in the sender's stream, when it was due and when its send began) followed by filler up
// to the payload size. Both ends run on one machine and one build (the sender processes are
// this executable), so fields are in host byte order; CLOCK_MONOTONIC is system-wide on Linux,
// so a timestamp taken in a sender process is comparable in the sink.
//
// Bytes: 0 magic (u32), 4 sender (u32), 8 sequence << 8 | lane (u64), 16 intended_ns (i64),
// 24 send_ns (i64).
#include <time.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace sluice::actors {

inline constexpr std::uint32_t loadtest_magic = 0x544C4C53;  // "SLLT"
inline constexpr std::size_t loadtest_header_size = 32;
// 56 bits of sequence per stream: 7e16 messages, more than any run sends.
inline constexpr std::uint64_t loadtest_max_sequence = (std::uint64_t{1} << 56) - 1;

struct loadtest_header {
  std::uint32_t sender = 0;
  std::uint8_t lane = 0;       // inbox::priority value; order is per (sender, lane)
  std::uint64_t sequence = 0;  // per sender, sink and lane: 0, 1, 2, ...
  // CLOCK_MONOTONIC when the message was due: with --rate the sender's schedule (start +
  // k / rate), which a sender that fell behind has already passed; without a rate, when its
  // send began. Latency is measured from here, so a stalled sender cannot hide the wait of
  // the messages it did not send meanwhile (coordinated omission).
  std::int64_t intended_ns = 0;
  // CLOCK_MONOTONIC when the sender began sending it (first attempt, backpressure included):
  // the service time is measured from here.
  std::int64_t send_ns = 0;
};

inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Writes the header into the first loadtest_header_size bytes of out.
inline void encode(const loadtest_header& h, char* out) noexcept {
  const std::uint64_t seq_lane = (h.sequence << 8) | h.lane;
  std::memcpy(out + 0, &loadtest_magic, 4);
  std::memcpy(out + 4, &h.sender, 4);
  std::memcpy(out + 8, &seq_lane, 8);
  std::memcpy(out + 16, &h.intended_ns, 8);
  std::memcpy(out + 24, &h.send_ns, 8);
}

// nullopt when the payload is too short or does not carry the magic (not a loadtest message).
inline std::optional<loadtest_header> decode(std::string_view payload) noexcept {
  if (payload.size() < loadtest_header_size) return std::nullopt;
  std::uint32_t magic = 0;
  std::memcpy(&magic, payload.data(), 4);
  if (magic != loadtest_magic) return std::nullopt;
  loadtest_header h;
  std::uint64_t seq_lane = 0;
  std::memcpy(&h.sender, payload.data() + 4, 4);
  std::memcpy(&seq_lane, payload.data() + 8, 8);
  std::memcpy(&h.intended_ns, payload.data() + 16, 8);
  std::memcpy(&h.send_ns, payload.data() + 24, 8);
  h.sequence = seq_lane >> 8;
  h.lane = static_cast<std::uint8_t>(seq_lane & 0xFF);
  return h;
}

}  // namespace sluice::actors
