#pragma once
// Addresses on another bus (docs/architecture.md section 9): `agent@peer` names inbox `agent` on
// the bus that a `sluice bridge` knows as `peer`. Agent names cannot hold '@', so a sender routes
// such a message into the local outbound inbox `bridge-<peer>` (an ordinary inbox: backpressure and
// the breaker work on it unchanged) and the final agent rides in a one-line envelope in front
// of the payload: "<agent>\n<payload>". Agent names cannot hold '\n' either, so the envelope is
// unambiguous; it costs the payload at most 65 bytes of the slot.
#include <optional>
#include <string>
#include <string_view>

#include "inbox/result.hpp"

namespace sluice::backpressure {

inline constexpr std::string_view bridge_inbox_prefix = "bridge-";
// A peer name plus the prefix must still be a valid agent name (64 characters).
inline constexpr std::size_t max_peer_name = 64 - bridge_inbox_prefix.size();

struct remote_address {
  std::string agent;  // inbox on the far bus
  std::string peer;   // the far bus's bridge name
};

// true when name matches ^[A-Za-z0-9_-]{1,57}$.
bool is_valid_peer_name(std::string_view name) noexcept;

// nullopt for a plain local name (no '@'); the address for `agent@peer`; an error naming the
// bad part for anything else with an '@' in it.
inbox::result<std::optional<remote_address>> parse_address(std::string_view to);

// "bridge-<peer>": the outbound inbox a bridge to `peer` consumes.
std::string outbound_inbox(std::string_view peer);

std::string wrap_envelope(std::string_view agent, std::string_view payload);
// The bytes wrap_envelope puts in front of a payload for `agent`.
inline std::size_t envelope_size(std::string_view agent) noexcept {
  return agent.size() + 1;
}

struct envelope {
  std::string_view agent;
  std::string_view payload;
};
// nullopt when the payload does not start with a valid agent name and '\n'.
std::optional<envelope> unwrap_envelope(std::string_view payload) noexcept;

}  // namespace sluice::backpressure
