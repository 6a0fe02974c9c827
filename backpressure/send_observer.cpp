#include "backpressure/send_observer.hpp"

namespace sluice::backpressure {

send_observer& null_observer() noexcept {
  static send_observer none;
  return none;
}

}  // namespace sluice::backpressure
