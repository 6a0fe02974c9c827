#pragma once
// runtime/ reports set-up failures with the same expected-style type as inbox/, so the CLI
// maps every error to an exit code in one place.
#include "inbox/result.hpp"

namespace sluice::runtime {

using inbox::done;
using inbox::errc;
using inbox::error;
using inbox::result;

using status = result<done>;

}  // namespace sluice::runtime
