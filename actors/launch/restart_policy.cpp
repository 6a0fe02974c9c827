#include "actors/launch/restart_policy.hpp"

#include <algorithm>

namespace sluice::actors {

restart_policy::restart_policy(actors::restart_mode mode, actors::agent_role role,
                               unsigned max_restarts, std::chrono::milliseconds backoff) noexcept
    : mode_(mode), role_(role), max_restarts_(max_restarts), backoff_(backoff) {}

restart_policy::restart_policy(const actors::agent_spec& spec) noexcept
    : restart_policy(spec.restart, spec.role, spec.max_restarts, spec.restart_backoff) {}

restart_decision restart_policy::on_exit(bool success, bool stopping) {
  using actors::restart_mode;
  if (stopping) return {false, {}, "launch is stopping"};
  if (mode_ == restart_mode::never) return {false, {}, "restart = \"never\""};
  if (success && mode_ == restart_mode::on_failure)
    return {false, {}, "exited cleanly and restart = \"on-failure\""};
  if (success && role_ == actors::agent_role::job) return {false, {}, "job finished"};
  if (restarts_ >= max_restarts_)
    return {false, {}, "max_restarts = " + std::to_string(max_restarts_) + " reached"};
  // backoff x 2^restarts, computed without overflow: stop doubling at the cap.
  auto delay = backoff_;
  for (unsigned i = 0; i < restarts_ && delay < actors::max_restart_backoff; ++i) delay *= 2;
  delay = std::min(delay, actors::max_restart_backoff);
  ++restarts_;
  return {true, delay,
          "restart " + std::to_string(restarts_) + " of " + std::to_string(max_restarts_)};
}

}  // namespace sluice::actors
