#pragma once
// Catch2 v2 has no skip: a test that cannot run here ends its process with skip_exit_code,
// which sluice_add_test registers as ctest's SKIP_RETURN_CODE, so the run reports it as
// skipped instead of passed. ctest runs each TEST_CASE in a process of its own.
#include <cstdio>
#include <cstdlib>

namespace sluice::test {
inline constexpr int skip_exit_code = 77;  // the automake convention
}  // namespace sluice::test

#define SLUICE_SKIP(reason)                                         \
  do {                                                              \
    std::printf("skipped: %s\n", static_cast<const char*>(reason)); \
    std::fflush(stdout);                                            \
    std::_Exit(::sluice::test::skip_exit_code);                     \
  } while (0)
