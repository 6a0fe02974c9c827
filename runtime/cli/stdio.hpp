#pragma once
// Raw stdin/stdout for verbs whose correctness depends on knowing whether I/O succeeded:
// recv commits only after write_fully() said every byte reached the kernel.
#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::cli {

// The payload argument, or all of stdin when it is "-". Unless `exact`, a single trailing
// newline is removed from stdin, as `$(cat)` would, so `echo '{"a":1}' | sluice send a b t -`
// sends {"a":1}; with `exact` (send --raw) stdin's bytes are the payload, whatever they are.
// Throws cli_error: io_error when stdin cannot be read, bad_input when the payload is longer
// than `limit` bytes, the most destination `to` takes (reading stops there, so a huge stdin is
// not slurped).
std::string read_payload(std::string_view arg, std::size_t limit, std::string_view to,
                         bool exact = false);

// Throws cli_error(io_error) when stdout cannot be written at all (closed when sluice
// started: inbox/std_fds.hpp leaves a placeholder that refuses writes), so a verb that
// consumes or drops messages refuses before it touches the inbox. A reader that goes away
// later is still caught by write_fully. `untouched`: what the refusal leaves undone, for the
// message ("nothing was sent").
void require_writable_stdout(std::string_view untouched = "nothing was read or consumed");

// Writes all of text to stdout (fd 1), retrying short writes and EINTR. false on any error,
// e.g. EPIPE when the reader has gone (SIGPIPE is ignored by main for this reason).
[[nodiscard]] bool write_fully(std::string_view text) noexcept;

// write_fully, or cli_error(io_error) naming the reason: for a verb's answer.
void print(std::string_view text);

}  // namespace sluice::cli
