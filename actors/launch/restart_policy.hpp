#pragma once
// When a supervised agent's process ends, should it run again, and after how long?
// A pure state machine (no clock, no CAF) so every rule is tested without processes:
//
// - never: never restarted. on-failure: restarted unless it exited 0. always: restarted
//   whatever the exit, except a job (role = "job") that succeeded: a finished job is done.
// - at most max_restarts restarts in the agent's lifetime; the next exit is final.
// - the delay doubles per restart: backoff, 2 x backoff, 4 x backoff, ... capped at
//   actors::max_restart_backoff (30 s), so a crash loop cannot spin the CPU.
// - nothing restarts while launch is stopping.
#include <chrono>
#include <string>

#include "actors/launch/manifest.hpp"

namespace sluice::actors {

struct restart_decision {
  bool restart = false;
  std::chrono::milliseconds delay{0};
  std::string reason;  // for the log line: why (not) restarted
};

class restart_policy {
 public:
  restart_policy(actors::restart_mode mode, actors::agent_role role, unsigned max_restarts,
                 std::chrono::milliseconds backoff) noexcept;
  explicit restart_policy(const actors::agent_spec& spec) noexcept;

  // The agent's process ended; `success` is exit 0, `stopping` that launch is shutting down.
  restart_decision on_exit(bool success, bool stopping);

  unsigned restarts() const noexcept { return restarts_; }

 private:
  actors::restart_mode mode_;
  actors::agent_role role_;
  unsigned max_restarts_;
  std::chrono::milliseconds backoff_;
  unsigned restarts_ = 0;
};

}  // namespace sluice::actors
