#pragma once
// send_with_backpressure: the sender side of docs/architecture.md section 4.
//
//   auto out = backpressure::send_with_backpressure(dest, {"alice", "task", payload}, policy);
//   if (out.status != backpressure::send_status::sent) ...  // to_string(out.status)
//
// Never throws. Waits (when the inbox is full) happen on the inbox's not_full doorbell with
// a jittered timer, so a sender resumes as soon as the consumer frees a slot.
#include "backpressure/random_source.hpp"
#include "backpressure/send_observer.hpp"
#include "backpressure/send_policy.hpp"
#include "backpressure/time_source.hpp"
#include "inbox/inbox.hpp"

namespace sluice::backpressure {

[[nodiscard]] send_outcome send_with_backpressure(inbox::inbox& dest,
                                                  const inbox::message_view& msg,
                                                  const send_policy& policy = {},
                                                  send_observer& observer = null_observer(),
                                                  time_source& time = monotonic_time(),
                                                  random_source& rng = default_random()) noexcept;

}  // namespace sluice::backpressure
