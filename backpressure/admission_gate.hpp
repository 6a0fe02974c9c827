#pragma once
// The hook through which a bus-wide policy (governance/, a higher layer) decides each send
// before the send loop tries the inbox. backpressure knows only this interface; the places
// that build senders (the send verb, the agent API) install governance's implementation in
// send_policy::gate. Without a gate every send is admitted.
#include <cstdint>
#include <string_view>

#include "inbox/inbox.hpp"

namespace sluice::backpressure {

struct admission_request {
  std::string_view from;
  std::string_view to;
  std::string_view type;
  inbox::priority prio = inbox::priority::normal;
};

enum class admit_kind : std::uint8_t {
  allow,   // send now (after delay_ns, when pacing)
  deny,    // a rule refuses this send outright: nothing sent, never retried
  wait,    // no room now: ask again after retry_after_ns (the loop's deadline still applies)
  demote,  // send, in lane demote_to
};

struct admission_verdict {
  admit_kind kind = admit_kind::allow;
  std::int64_t retry_after_ns = 0;  // wait
  std::int64_t delay_ns = 0;        // allow / demote: start only after this long (pacing)
  inbox::priority demote_to = inbox::priority::low;
};

class admission_gate {
 public:
  virtual ~admission_gate() = default;
  // Decides one send at now_ns (CLOCK_MONOTONIC). A wait or deny verdict has taken nothing.
  virtual admission_verdict admit(const admission_request& request,
                                  std::int64_t now_ns) noexcept = 0;
};

}  // namespace sluice::backpressure
