#pragma once
// The senders of one load test, as processes (the default: real cross-process contention,
// `sluice loadtest-sender` exec'd per sender) or as threads of this process (--threads).
// Either way they are created first, wait at a start line, and are released together.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "actors/loadtest/sender.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

class sender_fleet {
 public:
  virtual ~sender_fleet() = default;
  // Releases every sender at once.
  virtual void start() = 0;
  // How many senders have not finished yet (reaps exited processes).
  virtual std::uint32_t running() = 0;
  // Asks every sender to stop after its current message (SIGTERM / stop flag).
  virtual void stop() = 0;
  // After running() reached 0: one report per sender, or why one is missing.
  virtual runtime::result<std::vector<sender_report>> reports() = 0;
};

// exe is run as `exe loadtest-sender <config-json>`: it waits for one byte on stdin, sends,
// and prints its report as JSON on stdout.
runtime::result<std::unique_ptr<sender_fleet>> spawn_sender_processes(
    const std::string& exe, const std::vector<sender_config>& configs);

std::unique_ptr<sender_fleet> spawn_sender_threads(const std::vector<sender_config>& configs);

}  // namespace sluice::actors
