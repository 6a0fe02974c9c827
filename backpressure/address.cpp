#include "backpressure/address.hpp"

#include "inbox/inbox.hpp"

namespace sluice::backpressure {

bool is_valid_peer_name(std::string_view name) noexcept {
  return name.size() <= max_peer_name && inbox::is_valid_agent_name(name);
}

inbox::result<std::optional<remote_address>> parse_address(std::string_view to) {
  const auto at = to.find('@');
  if (at == std::string_view::npos) return std::optional<remote_address>{};
  const auto agent = to.substr(0, at);
  const auto peer = to.substr(at + 1);
  if (!inbox::is_valid_agent_name(agent))
    return inbox::error{
        inbox::errc::invalid_name,
        "address '" + std::string(to) + "': the agent before '@' must match ^[A-Za-z0-9_-]{1,64}$"};
  if (!is_valid_peer_name(peer))
    return inbox::error{inbox::errc::invalid_name,
                        "address '" + std::string(to) +
                            "': the bridge name after '@' must match ^[A-Za-z0-9_-]{1,57}$"};
  return std::optional<remote_address>{remote_address{std::string(agent), std::string(peer)}};
}

std::string outbound_inbox(std::string_view peer) {
  std::string name(bridge_inbox_prefix);
  name += peer;
  return name;
}

std::string wrap_envelope(std::string_view agent, std::string_view payload) {
  std::string out;
  out.reserve(envelope_size(agent) + payload.size());
  out += agent;
  out += '\n';
  out += payload;
  return out;
}

std::optional<envelope> unwrap_envelope(std::string_view payload) noexcept {
  const auto nl = payload.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  const auto agent = payload.substr(0, nl);
  if (!inbox::is_valid_agent_name(agent)) return std::nullopt;
  return envelope{agent, payload.substr(nl + 1)};
}

}  // namespace sluice::backpressure
