#include "backpressure/send_policy.hpp"

namespace sluice::backpressure {

const char* to_string(send_status s) noexcept {
  switch (s) {
    case send_status::sent:
      return "sent";
    case send_status::full:
      return "full";
    case send_status::timed_out:
      return "timed_out";
    case send_status::circuit_open:
      return "circuit_open";
    case send_status::rate_limited:
      return "rate_limited";
    case send_status::rejected:
      return "rejected";
    case send_status::denied:
      return "denied";
  }
  return "unknown";
}

}  // namespace sluice::backpressure
