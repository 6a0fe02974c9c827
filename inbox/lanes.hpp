#pragma once
// The lanes of an inbox, in one table. A lane is a priority with a ring of its own in the file.
// Adding one is an entry in lane_table (and in `priority`) plus a new layout version
// (layout.hpp): the file, the consumer's order, the doctor and the statistics all read it here.
#include <array>
#include <cstddef>
#include <cstdint>

namespace sluice::inbox {

// A lane's index is its priority's value.
enum class priority : std::uint8_t { low = 0, normal = 1, high = 2, critical = 3 };
inline constexpr std::size_t lane_count = 4;

struct lane_spec {
  const char* name;
  // Messages a weighted round-robin turn delivers from this lane before the next lane gets
  // one; 0 for the strict-priority lane (critical), which is drained first and bypasses the
  // shared regular capacity (it has a reserve ring of its own).
  std::uint32_t weight;
  std::uint8_t file_rank;   // where its ring lies in the file: 0 first, after the header
  bool backed_at_creation;  // its ring is given memory when the file is made (layout.hpp)
};

// 4:2:1 for high:normal:low, scaled by 8 so a large batch switches lanes less often.
inline constexpr lane_spec lane_table[lane_count] = {
    /* low */ {"low", 8, 3, false},
    /* normal */ {"normal", 16, 1, true},
    /* high */ {"high", 32, 2, false},
    /* critical */ {"critical", 0, 0, true},
};

inline constexpr std::size_t critical_lane = static_cast<std::size_t>(priority::critical);
inline constexpr std::size_t normal_lane = static_cast<std::size_t>(priority::normal);
inline constexpr std::size_t regular_lane_count = lane_count - 1;

constexpr bool is_regular(std::size_t lane) noexcept {
  return lane_table[lane].weight != 0;
}

// The regular lanes, heaviest weight first: the order of a weighted round-robin round.
inline constexpr std::array<std::size_t, regular_lane_count> round_robin_order = [] {
  std::array<std::size_t, regular_lane_count> order{};
  std::size_t n = 0;
  for (std::size_t lane = 0; lane < lane_count; ++lane)
    if (is_regular(lane)) order[n++] = lane;
  for (std::size_t i = 0; i < n; ++i)  // insertion sort, heaviest first
    for (std::size_t j = i; j > 0 && lane_table[order[j]].weight > lane_table[order[j - 1]].weight;
         --j) {
      const std::size_t t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  return order;
}();

// Every lane in the order a consumer serves them: strict priority first, then the regular lanes
// heaviest first (the order listings show lanes in).
inline constexpr std::array<std::size_t, lane_count> delivery_order = [] {
  std::array<std::size_t, lane_count> order{};
  std::size_t n = 0;
  for (std::size_t lane = 0; lane < lane_count; ++lane)
    if (!is_regular(lane)) order[n++] = lane;
  for (const std::size_t lane : round_robin_order) order[n++] = lane;
  return order;
}();

// Lanes in the order of their rings in the file.
inline constexpr std::array<std::size_t, lane_count> file_order = [] {
  std::array<std::size_t, lane_count> order{};
  for (std::size_t lane = 0; lane < lane_count; ++lane) order[lane_table[lane].file_rank] = lane;
  return order;
}();

// The lanes backed when the file is made, as the bit mask header.backed starts with.
inline constexpr std::uint32_t backed_at_creation_mask = [] {
  std::uint32_t mask = 0;
  for (std::size_t lane = 0; lane < lane_count; ++lane)
    if (lane_table[lane].backed_at_creation) mask |= 1u << lane;
  return mask;
}();

static_assert(!is_regular(critical_lane) && regular_lane_count == 3);
static_assert(round_robin_order[0] == static_cast<std::size_t>(priority::high));
static_assert(file_order[0] == critical_lane && file_order[1] == normal_lane);

}  // namespace sluice::inbox
