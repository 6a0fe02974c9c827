#pragma once
// Where a sending bridge keeps the messages of a starved destination (credit.hpp), so that
// one full remote inbox holds up only the messages addressed to it (no CAF here).
//
// The outbound inbox bridge-<peer> is one queue for every destination on the peer's bus, and
// its consumer commits a whole batch or nothing. When the far inbox d stays full, its messages
// would keep the batch, and so every other destination, waiting. The sending bridge instead
// moves them, in order, into the holding inbox `<bus>/bridge-<peer>.held/<d>.inbox` (an
// ordinary inbox in a directory of its own, so no agent name can collide with it), commits the
// batch, and sends d's messages from there once d has room again. While d's holding inbox has
// messages, every new message for d goes there too, behind them, so d's order is kept. A
// drained holding inbox is removed, and the directory with its last inbox.
//
// Bounded like everything else: a holding inbox has the outbound inbox's capacity. When it is
// full too, d's next message stays in the outbound batch and holds it as before, the outbound
// inbox fills, and senders to that peer back off and then trip its breaker.
//
// A held message is the original one (sender, type, priority, payload with its envelope)
// behind a line with its id in the outbound inbox, so the far bridge still recognises a resend
// after a crash between the move and the commit.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inbox/inbox.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

// <bus>/bridge-<peer>.held
std::filesystem::path held_directory(const std::filesystem::path& bus_dir, std::string_view peer);

// "<16 hex digits of id>\n<payload>"
std::string held_payload(std::uint64_t id, std::string_view payload);
struct held_message {
  std::uint64_t id = 0;
  std::string_view payload;  // the original payload, envelope included
};
// nullopt when the payload does not start with an id line.
std::optional<held_message> parse_held_payload(std::string_view held) noexcept;

// Bytes a held message adds to the original.
inline constexpr std::uint32_t held_overhead = 17;

// Opens or creates d's holding inbox: the outbound inbox's capacity, and slots one cache line
// larger so the id line fits beside the largest payload the outbound inbox takes.
runtime::result<inbox::inbox> open_held_inbox(const std::filesystem::path& bus_dir,
                                              std::string_view peer, std::string_view dest,
                                              const inbox::stats& outbound);

// Destinations that have a holding inbox for this peer (left by an earlier process).
std::vector<std::string> held_destinations(const std::filesystem::path& bus_dir,
                                           std::string_view peer);

// Removes d's holding inbox, and the directory once no inbox is left in it. The caller holds
// the inbox's consumer lock and has seen it empty; only the bridge that holds the outbound
// inbox's consumer lock ever writes to it.
void remove_held_inbox(const std::filesystem::path& bus_dir, std::string_view peer,
                       std::string_view dest) noexcept;

}  // namespace sluice::actors
