#include "backpressure/send.hpp"

#include "backpressure/send_loop.hpp"

namespace sluice::backpressure {

send_outcome send_with_backpressure(inbox::inbox& dest, const inbox::message_view& msg,
                                    const send_policy& policy, send_observer& observer,
                                    time_source& time, random_source& rng) noexcept {
  return basic_send(dest, msg, policy, observer, time, rng);
}

}  // namespace sluice::backpressure
