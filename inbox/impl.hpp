#pragma once
// inbox::impl: one process's view of a mapped inbox file (internal to inbox/). Everything
// here is process-local; everything behind `h` and `lanes[].base` is shared and untrusted.
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "inbox/inbox.hpp"
#include "inbox/layout.hpp"

namespace sluice::inbox {

namespace detail {

struct lane_geometry {
  std::uint8_t* base = nullptr;  // first slot of this lane's ring inside the mapping
  std::uint64_t mask = 0;        // ring - 1 (rings are powers of two)
  std::uint32_t shift = 0;       // log2(ring)
  std::uint32_t ring = 0;
};

// Weighted round-robin position over the regular lanes (high, normal, low).
struct wrr_state {
  std::uint8_t turn = 0;   // index into wrr_order
  std::uint32_t left = 0;  // messages the current lane may still deliver this round
};
inline constexpr std::size_t wrr_order[3] = {2, 1, 0};  // high, normal, low
// 4:2:1 as in DESIGN.md, scaled by 8 so a large batch switches lanes less often.
inline constexpr std::uint32_t wrr_weight[3] = {32, 16, 8};

// A slot the consumer found claimed but not published, and since when (monotonic ns).
struct pending_claim {
  std::uint64_t pos = 0;
  std::uint64_t ctl = 0;
  std::uint64_t since_ns = 0;
  bool valid = false;
};

// The single consumer's cursors. committed mirrors header.head (which only this process
// writes while it holds the flock); cursor runs ahead over the uncommitted batch.
struct consumer_cursors {
  std::uint64_t committed[layout::lane_count] = {};
  std::uint64_t cursor[layout::lane_count] = {};
  wrr_state wrr_committed;
  wrr_state wrr;
  std::uint64_t delivered = 0;  // messages in the uncommitted batch
  pending_claim pending[layout::lane_count];
  std::uint64_t heartbeat_ns = 0;  // last value stored in header.consumer.heartbeat_ns
  std::uint32_t empty_polls = 0;
  bool blocked = false;  // last pop stopped at a claimed, unpublished slot
};

}  // namespace detail

struct inbox::impl {
  std::filesystem::path path;
  std::string agent;
  int fd = -1;  // our own O_NOFOLLOW descriptor; also the flock handle for drop-oldest
  boost::interprocess::mapped_region region;
  layout::header* h = nullptr;
  detail::lane_geometry lanes[layout::lane_count];
  std::uint32_t capacity = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t max_payload = 0;
  std::uint64_t id_prefix = 0;  // incarnation << 40

  // Consumer side, valid while a consumer is attached through this object.
  bool consuming = false;
  detail::consumer_cursors cons;
  std::chrono::nanoseconds grace{std::chrono::milliseconds(100)};

  layout::slot_header* slot(std::size_t lane, std::uint64_t pos) const noexcept {
    const auto& g = lanes[lane];
    return reinterpret_cast<layout::slot_header*>(g.base + (pos & g.mask) * slot_size);
  }

  ~impl();

  // consume.cpp
  std::size_t take(std::size_t lane, received_message* out, std::size_t k) noexcept;
  bool resolve_stuck(bool read_tails) noexcept;  // true when a stuck slot was skipped
  bool has_work(bool may_resolve) noexcept;      // something pop_batch can act on
  bool anything_in_flight() const noexcept;
  // push.cpp
  bool try_evict_oldest() noexcept;
  void ring_not_empty() noexcept;
  void ring_not_full() noexcept;
};

struct consumer::state {
  inbox::impl* in = nullptr;
  int lock_fd = -1;  // a second open file description: flock is per description
};

// Wire format checks shared by the consumer and peek(): copies the lengths out of shared
// memory once, bounds-checks them, and only then builds views.
bool decode_slot(const layout::slot_header* s, std::uint32_t max_payload, std::size_t lane,
                 received_message& out) noexcept;

}  // namespace sluice::inbox
