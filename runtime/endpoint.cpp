#include "runtime/endpoint.hpp"

#include <charconv>

namespace sluice::runtime {

result<endpoint> parse_endpoint(std::string_view text, bool allow_zero) {
  const auto bad = [&](std::string_view why) {
    return error{errc::invalid_argument,
                 "'" + std::string(text) + "' is not HOST:PORT" + std::string(why)};
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad(" (no host or no port)");
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535 || (port == 0 && !allow_zero))
    return bad(allow_zero ? " with a port 0..65535" : " with a port 1..65535");
  return endpoint{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

}  // namespace sluice::runtime
