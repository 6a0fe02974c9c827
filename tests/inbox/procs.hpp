#pragma once
// Helpers for multi-process tests: fork a function as a real process, reap it, and size the
// work down under sanitizers (they slow every atomic and memcpy several times).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice::inbox::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

// Runs fn() in a child process that exits with its return value (no atexit handlers, no
// Catch2 reporting from the child).
template <class F>
pid_t spawn(F fn) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(fn());
  return child;
}

// Exit code of a reaped child, 128 + signal when it was killed, -1 on error.
inline int reap(pid_t child) {
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return -1;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Payload of the multi-process tests: who sent it and its number in that sender's stream.
struct tagged {
  std::uint32_t producer;
  std::uint32_t pad;
  std::uint64_t seq;
};

inline std::string_view as_payload(const tagged& t) {
  return {reinterpret_cast<const char*>(&t), sizeof t};
}

inline bool parse(std::string_view payload, tagged& out) {
  if (payload.size() != sizeof(tagged)) return false;
  std::memcpy(&out, payload.data(), sizeof out);
  return true;
}

}  // namespace sluice::inbox::testing
