#include "actors/agent/send_failure.hpp"

#include <chrono>

namespace sluice::actors {

namespace {

std::string millis(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

send_failure describe_send_failure(std::string_view to, const backpressure::send_outcome& out,
                                   std::size_t payload_size, std::uint32_t max_payload) {
  using backpressure::send_status;
  const std::string inbox = "inbox " + std::string(to);
  switch (out.status) {
    case send_status::sent:
      return {};
    case send_status::full:
      return {inbox + " is full and the agent is stopping (no more waiting)", 75};
    case send_status::timed_out:
      return {inbox + " stayed full for " + millis(out.waited) + " (" +
                  std::to_string(out.attempts) + " attempts); its consumer is not keeping up",
              75};
    case send_status::circuit_open:
      return {"circuit to " + std::string(to) +
                  " is open after repeated full-inbox failures; retry in " + millis(out.retry_after),
              69};
    case send_status::rate_limited:
      return {"rate limit reached; retry in " + millis(out.retry_after), 75};
    case send_status::rejected:
      if (out.last_push == inbox::push_result::too_large)
        return {"payload is " + std::to_string(payload_size) + " bytes, " + inbox +
                    " takes at most " + std::to_string(max_payload),
                65};
      return {inbox + " refused the message (" +
                  (out.last_push ? inbox::to_string(*out.last_push) : "no reason") + ")",
              69};
  }
  return {"unknown send status", 70};
}

send_failure describe_destination_error(const inbox::error& err) {
  switch (err.code) {
    case inbox::errc::invalid_name:
    case inbox::errc::invalid_argument:
    case inbox::errc::bad_magic:
    case inbox::errc::wrong_version:
    case inbox::errc::wrong_size:
    case inbox::errc::corrupt:
      return {err.message, 65};
    case inbox::errc::path_is_symlink:
    case inbox::errc::permission_denied:
      return {err.message, 77};
    case inbox::errc::busy:
      return {err.message, 75};
    case inbox::errc::not_found:
    case inbox::errc::no_space:
    case inbox::errc::io_error:
      return {err.message, 71};
  }
  return {err.message, 70};
}

}  // namespace sluice::actors
