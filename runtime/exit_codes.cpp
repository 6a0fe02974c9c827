#include "runtime/exit_codes.hpp"

#include <chrono>

#include "backpressure/address.hpp"

namespace sluice::runtime {
namespace {

std::string millis(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

int exit_code_for(inbox::errc code) noexcept {
  switch (code) {
    case inbox::errc::invalid_name:
    case inbox::errc::invalid_argument:
    case inbox::errc::bad_magic:
    case inbox::errc::wrong_version:
    case inbox::errc::wrong_size:
    case inbox::errc::corrupt:
      return exit_code::bad_input;
    case inbox::errc::path_is_symlink:
    case inbox::errc::permission_denied:
      return exit_code::no_permission;
    case inbox::errc::busy:
      return exit_code::temp_fail;
    case inbox::errc::not_found:
      return exit_code::no_input;
    case inbox::errc::no_space:
    case inbox::errc::io_error:
      return exit_code::os_error;
  }
  return exit_code::software;
}

std::size_t payload_limit(std::string_view to, std::uint32_t max_payload) {
  auto remote = backpressure::parse_address(to);
  const std::size_t envelope =
      remote && *remote ? backpressure::envelope_size((*remote)->agent) : 0;
  return max_payload > envelope ? max_payload - envelope : 0;
}

failure payload_too_large(std::size_t size, std::string_view to, std::size_t limit) {
  return {exit_code::bad_input, "payload is " + std::to_string(size) + " bytes, inbox " +
                                    std::string(to) + " takes at most " + std::to_string(limit) +
                                    ": nothing sent; send a path to a file instead"};
}

failure stored_payload_too_large(std::size_t stored, std::string_view to,
                                 std::uint32_t max_payload) {
  const std::size_t limit = payload_limit(to, max_payload);
  const std::size_t envelope = max_payload - limit;
  return payload_too_large(stored > envelope ? stored - envelope : 0, to, limit);
}

failure describe_send_failure(std::string_view from, std::string_view to,
                              const backpressure::send_outcome& out, std::size_t payload_size,
                              std::uint32_t max_payload, std::string_view address) {
  using backpressure::send_status;
  const std::string inbox = "inbox " + std::string(to);
  switch (out.status) {
    case send_status::sent:
      return {};
    case send_status::full:
      return {exit_code::temp_fail,
              inbox + " is full and the sender asked not to wait: nothing sent; retry later"};
    case send_status::timed_out:
      return {exit_code::temp_fail,
              inbox + " stayed full for " + millis(out.waited) + " (" +
                  std::to_string(out.attempts) +
                  " attempts): nothing sent; its consumer is not keeping up (see sluice "
                  "get-stats), or raise --timeout"};
    case send_status::circuit_open:
      return {exit_code::unavailable,
              "circuit to " + std::string(to) +
                  " is open after repeated full-inbox failures: nothing sent; retry in " +
                  millis(out.retry_after)};
    case send_status::rate_limited:
      return {exit_code::temp_fail, "rate limit for " + std::string(from) +
                                        " reached: nothing sent; retry in " +
                                        millis(out.retry_after)};
    case send_status::denied:
      return {exit_code::unavailable, "the bus policy denies " + std::string(from) + " -> " +
                                          std::string(to) +
                                          ": nothing sent; see sluice policy show"};
    case send_status::rejected:
      break;
  }
  if (!out.last_push) return {exit_code::unavailable, inbox + " refused the message: nothing sent"};
  switch (*out.last_push) {
    case inbox::push_result::too_large:
      return stored_payload_too_large(payload_size, address.empty() ? to : address, max_payload);
    case inbox::push_result::no_space:
      return {exit_code::os_error,
              "no space left to back a lane of " + inbox +
                  " (its filesystem is full): nothing sent; free space there, or send at normal "
                  "priority, whose lane is reserved when an inbox is created"};
    case inbox::push_result::broken:
      return {exit_code::io_error,
              inbox +
                  " shrank or lost its memory while in use (truncated, or its filesystem "
                  "is full): nothing sent; run sluice doctor"};
    case inbox::push_result::closed:
      return {exit_code::unavailable, inbox + " is closed: nothing sent; recreate it to reopen"};
    case inbox::push_result::ok:
    case inbox::push_result::full:
      break;
  }
  return {exit_code::unavailable,
          inbox + " refused the message (" + inbox::to_string(*out.last_push) + "): nothing sent"};
}

}  // namespace sluice::runtime
