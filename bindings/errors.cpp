#include "bindings/errors.hpp"

namespace sluice::bindings {

namespace code = runtime::exit_code;

// clang-format off
const error_kind_info error_kinds[] = {
  {error_kind::bad_input,    "bad_input",    code::bad_input},
  {error_kind::too_large,    "too_large",    code::bad_input},
  {error_kind::not_found,    "not_found",    code::no_input},
  {error_kind::unavailable,  "unavailable",  code::unavailable},
  {error_kind::circuit_open, "circuit_open", code::unavailable},
  {error_kind::internal,     "internal",     code::software},
  {error_kind::os_error,     "os_error",     code::os_error},
  {error_kind::io_error,     "io_error",     code::io_error},
  {error_kind::backpressure, "backpressure", code::temp_fail},
  {error_kind::busy,         "busy",         code::temp_fail},
  {error_kind::permission,   "permission",   code::no_permission},
};
// clang-format on
const std::size_t error_kind_count = sizeof error_kinds / sizeof error_kinds[0];

const error_kind_info& describe(error_kind kind) noexcept {
  for (const auto& info : error_kinds)
    if (info.kind == kind) return info;
  return error_kinds[static_cast<std::size_t>(error_kind::internal)];
}

namespace {

// The kind of a set-up error: the exit code runtime/exit_codes gives it, said by kind.
error_kind kind_of(inbox::errc e) noexcept {
  switch (runtime::exit_code_for(e)) {
    case code::bad_input:
      return error_kind::bad_input;
    case code::no_input:
      return error_kind::not_found;
    case code::temp_fail:
      return error_kind::busy;
    case code::os_error:
      return error_kind::os_error;
    case code::no_permission:
      return error_kind::permission;
    default:
      return error_kind::internal;
  }
}

error_kind kind_of(const backpressure::send_outcome& out) noexcept {
  using backpressure::send_status;
  switch (out.status) {
    case send_status::full:
    case send_status::timed_out:
    case send_status::rate_limited:
      return error_kind::backpressure;
    case send_status::circuit_open:
      return error_kind::circuit_open;
    case send_status::denied:  // the bus policy refused: exit 69, as `sluice send` says
      return error_kind::unavailable;
    case send_status::sent:
    case send_status::rejected:
      break;
  }
  if (!out.last_push) return error_kind::unavailable;
  switch (*out.last_push) {
    case inbox::push_result::too_large:
      return error_kind::too_large;
    case inbox::push_result::no_space:
      return error_kind::os_error;
    case inbox::push_result::broken:
      return error_kind::io_error;
    default:
      return error_kind::unavailable;
  }
}

}  // namespace

void raise(const inbox::error& err) {
  throw error(kind_of(err.code), err.message);
}

void raise_send_failure(std::string_view from, std::string_view to,
                        const backpressure::send_outcome& out, std::size_t payload_size,
                        std::uint32_t max_payload, std::string_view address) {
  const auto said =
      runtime::describe_send_failure(from, to, out, payload_size, max_payload, address);
  error e(kind_of(out), said.message);
  e.retry_after = out.retry_after;
  e.attempts = out.attempts;
  e.waited = out.waited;
  throw e;
}

}  // namespace sluice::bindings
