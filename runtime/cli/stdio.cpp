#include "runtime/cli/stdio.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/cli/verb.hpp"

namespace sluice::cli {

std::string read_payload(std::string_view arg, std::size_t limit, std::string_view to, bool exact) {
  const auto too_large = [&](std::size_t size) {
    auto f = runtime::payload_too_large(size, to, limit);
    return cli_error{f.code, std::move(f.message)};
  };
  if (arg != "-") {
    if (arg.size() > limit) throw too_large(arg.size());
    return std::string(arg);
  }
  std::string data;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw cli_error{exit_code::io_error,
                      std::string("cannot read the payload from stdin: ") + std::strerror(errno) +
                          ": pipe or redirect the payload into sluice, or pass it as an argument"};
    }
    data.append(buf, static_cast<std::size_t>(n));
    // One byte of slack for the trailing newline that is stripped below.
    if (data.size() > limit + 1) {
      throw cli_error{exit_code::bad_input,
                      "payload on stdin is more than " + std::to_string(limit + 1) +
                          " bytes, inbox " + std::string(to) + " takes at most " +
                          std::to_string(limit) + ": nothing sent; send a path to a file instead"};
    }
  }
  if (!exact && !data.empty() && data.back() == '\n') data.pop_back();
  if (data.size() > limit) throw too_large(data.size());
  return data;
}

void require_writable_stdout(std::string_view untouched) {
  // A zero-byte write checks that the descriptor is open for writing (EBADF otherwise)
  // without writing anything.
  if (::write(STDOUT_FILENO, "", 0) < 0 && errno == EBADF) {
    throw cli_error{exit_code::io_error, "stdout is closed: " + std::string(untouched) +
                                             "; give sluice somewhere to write (> file, | "
                                             "command, or > /dev/null to discard)"};
  }
}

bool write_fully(std::string_view text) noexcept {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

void print(std::string_view text) {
  if (!write_fully(text)) {
    throw cli_error{exit_code::io_error,
                    "cannot write to stdout: " + std::string(std::strerror(errno))};
  }
}

}  // namespace sluice::cli
