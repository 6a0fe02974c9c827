#pragma once
// HOST:PORT as `sluice bridge --listen/--connect` and a manifest's [bridge] section take it,
// parsed in one place so the flag and the manifest accept exactly the same text.
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/result.hpp"

namespace sluice::runtime {

struct endpoint {
  std::string host;
  std::uint16_t port = 0;
};

// "host:port" (the last ':' splits, so "[::1]:80"-style hosts keep their colons). The port is
// 1..65535, or 0..65535 with allow_zero (listen on any free port). The error names the text
// and the rule, not where the text came from: the caller prefixes its flag or key.
result<endpoint> parse_endpoint(std::string_view text, bool allow_zero);

}  // namespace sluice::runtime
