#pragma once
// runtime/ reports set-up failures with the same expected-style type as inbox/, so the CLI
// maps every error to an exit code in one place.
#include "inbox/result.hpp"

namespace sluice::runtime {

using inbox::errc;
using inbox::error;
using inbox::result;

// The value of a call that either succeeds with nothing to return or fails with a reason.
struct done {};
using status = result<done>;

}  // namespace sluice::runtime
