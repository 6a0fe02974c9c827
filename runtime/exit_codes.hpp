#pragma once
// Exit codes, and what each kind of failure maps to: the one table every verb, the agents and
// launch use (sysexits.h values; README "Exit codes" lists them, `sluice --help` too).
#include <cstdint>
#include <string>
#include <string_view>

#include "backpressure/send_policy.hpp"
#include "inbox/result.hpp"

namespace sluice::runtime {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;         // a check that answers no: check-capacity full, doctor
                                          // found problems, loadtest lost messages, an agent of
                                          // a launch ended uncleanly
inline constexpr int usage = 64;          // EX_USAGE: unknown verb, missing or bad flags
inline constexpr int bad_input = 65;      // EX_DATAERR: bad name, payload too large, bad value,
                                          // corrupt inbox file
inline constexpr int no_input = 66;       // EX_NOINPUT: a file or inbox named does not exist
inline constexpr int unavailable = 69;    // EX_UNAVAILABLE: circuit open, or a verb's
                                          // sluice-<feature> executable missing
inline constexpr int software = 70;       // EX_SOFTWARE: internal error
inline constexpr int os_error = 71;       // EX_OSERR: the OS refused (not a directory, no space)
inline constexpr int io_error = 74;       // EX_IOERR: could not read input / write output, an
                                          // inbox file shrank while in use
inline constexpr int temp_fail = 75;      // EX_TEMPFAIL: backpressure exhausted, inbox still full,
                                          // or another consumer holds the inbox
inline constexpr int no_permission = 77;  // EX_NOPERM: another user's file or directory, symlink
}  // namespace exit_code

// The exit code for a set-up error of any layer.
int exit_code_for(inbox::errc code) noexcept;

// A failure said once for every caller: one line naming what and why, and its exit code.
struct failure {
  int code = exit_code::ok;
  std::string message;
};

// A send that ran and did not end `sent`, as `sluice send` reports it ("... : nothing sent;
// <what to do>"). `to`: the inbox written to; payload_size and max_payload: what it was given
// and what its slots hold. `address`: the destination as the caller wrote it when that was
// agent@peer, so a refused size is told in the caller's terms (payload_limit).
failure describe_send_failure(std::string_view from, std::string_view to,
                              const backpressure::send_outcome& out, std::size_t payload_size,
                              std::uint32_t max_payload, std::string_view address = {});

// The most a payload sent to `to` may hold when its inbox's slots hold max_payload bytes: for
// agent@peer, less the envelope that carries the agent in front of it (backpressure/address.hpp).
std::size_t payload_limit(std::string_view to, std::uint32_t max_payload);

// A payload of `size` bytes that `to` (as the caller wrote it) cannot take: at most `limit`
// bytes (payload_limit).
failure payload_too_large(std::size_t size, std::string_view to, std::size_t limit);
// The same, from what a slot was to hold: `stored` bytes (the envelope included for agent@peer)
// against slots of max_payload bytes, told in the terms of `to` as the caller wrote it.
failure stored_payload_too_large(std::size_t stored, std::string_view to,
                                 std::uint32_t max_payload);

}  // namespace sluice::runtime
