#pragma once
// A message an agent could not deliver, said the way `sluice send` says it: one line naming
// the destination and the reason, and the exit code `sluice send` gives for the same outcome
// (README "Exit codes"), so a C++ agent that lost a message exits like a shell agent whose
// `sluice send` failed.
#include <cstdint>
#include <string>
#include <string_view>

#include "backpressure/send_policy.hpp"
#include "inbox/result.hpp"

namespace sluice::actors {

struct send_failure {
  std::string reason;  // "inbox planner stayed full for 5000 ms (51 attempts)"
  int exit_code = 0;   // 75 full / timed out / rate limited, 69 circuit open or refused,
                       // 65 too large or a bad name, 71 / 77 the destination cannot be created
};

// A send that ran and did not end `sent`. max_payload: what the destination takes.
send_failure describe_send_failure(std::string_view to, const backpressure::send_outcome& out,
                                   std::size_t payload_size, std::uint32_t max_payload);

// A destination that could not be opened or created (or an address that names none).
send_failure describe_destination_error(const inbox::error& err);

}  // namespace sluice::actors
