#pragma once
// Descriptors 0, 1 and 2 must be taken before a process opens anything: open() returns the
// lowest free number, so in a process started with stdout closed (`sluice recv w >&-`) the
// first file opened becomes fd 1, and what the program prints goes into that file; an inbox
// opened as fd 1 is overwritten by the JSON meant for the terminal.
namespace sluice::inbox {

// Fills each of fds 0-2 that is closed with a placeholder that fails every use the way a
// closed descriptor does (EBADF): /dev/null opened write-only for stdin, read-only for stdout
// and stderr. So a program that then reads stdin or writes stdout still sees an error, and
// `recv` with stdout closed exits with an I/O error having consumed nothing. Cheap (three
// fcntl calls) and idempotent: called by both executables at start and by every open of an
// inbox or control block, so C++ agents and the language bindings get it too. Returns false
// only when a placeholder could not be opened (neither /dev/null nor "/").
bool ensure_std_fds_open() noexcept;

}  // namespace sluice::inbox
