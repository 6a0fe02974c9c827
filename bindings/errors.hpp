#pragma once
// What a binding raises: one kind per exit code of runtime/exit_codes.hpp, with the same
// one-line message `sluice` prints, so a Python or Node agent sees the failure a shell agent
// would see, by kind instead of by number. The table in errors.cpp is the only mapping;
// each language turns a kind into its own exception class (Python) or error code (Node).
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "backpressure/send_policy.hpp"
#include "inbox/result.hpp"
#include "runtime/exit_codes.hpp"

namespace sluice::bindings {

enum class error_kind {
  bad_input,     // 65: a name, type, option or inbox file that is not valid
  too_large,     // 65: a payload the destination's slots cannot hold
  not_found,     // 66: an inbox or directory that was named does not exist
  unavailable,   // 69: the inbox is closed
  circuit_open,  // 69: the destination kept failing; the send failed fast
  internal,      // 70
  os_error,      // 71: the OS refused (no space, a directory not creatable)
  io_error,      // 74: the inbox shrank or lost its memory while in use
  backpressure,  // 75: the inbox stayed full (or was full and the caller asked not to wait)
  busy,          // 75: another process consumes the inbox
  permission,    // 77: someone else's file or directory, a symlink
};

struct error_kind_info {
  error_kind kind;
  const char* name;  // "backpressure": Python maps it to a class, Node to err.code
  int exit_code;
};

const error_kind_info& describe(error_kind) noexcept;
// Every kind, for the languages' own tables (and their tests).
extern const error_kind_info error_kinds[];
extern const std::size_t error_kind_count;

class error : public std::runtime_error {
 public:
  error(error_kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  error_kind kind() const noexcept { return kind_; }
  int exit_code() const noexcept { return describe(kind_).exit_code; }

  // circuit_open: when a send can succeed again. backpressure: what the send did.
  std::chrono::nanoseconds retry_after{0};
  std::uint32_t attempts = 0;
  std::chrono::nanoseconds waited{0};

 private:
  error_kind kind_;
};

// A waiting call gave up because the caller's language asked it to stop (Ctrl-C in Python,
// a closed receiver in Node). Nothing was sent or consumed; the binding reports its own way.
struct interrupted {};

// A set-up error of any layer (inbox::errc), with its message.
[[noreturn]] void raise(const inbox::error& err);
// A send that did not end `sent`, said as `sluice send` says it.
// address: the destination as the sender wrote it (runtime::describe_send_failure).
[[noreturn]] void raise_send_failure(std::string_view from, std::string_view to,
                                     const backpressure::send_outcome& out,
                                     std::size_t payload_size, std::uint32_t max_payload,
                                     std::string_view address);

}  // namespace sluice::bindings
