#pragma once
// A C++ agent (docs/architecture.md section 6): an actor that pumps this process's inbox in batches
// into your handler, with send/reply that apply backpressure. A complete worker:
//
//   #include "actors/agent/agent.hpp"
//   int main() {
//     sluice::actors::agent_handlers h;
//     h.on_message = [](sluice::actors::agent& self, const sluice::inbox::received_message& m) {
//       self.reply(m, "result", m.payload);  // waits (backs off) while the sender is full
//     };
//     return sluice::actors::run_agent(std::move(h));  // name and bus from SLUICE_AGENT/SLUICE_DIR
//   }
//
// Delivery is at-least-once: a batch is committed after the handler saw all of it, so an
// agent that crashes mid-batch gets the batch again when it is restarted. Handlers that
// must not repeat an effect deduplicate by message id.
//
// The batch size is re-read from bus.ctl every batch (the load monitor shrinks it under
// load); SIGTERM/SIGINT finish the current batch, commit it and return 0.
//
// send/reply create a destination inbox that does not exist yet, with the bus configuration's
// geometry (MAX_INBOX_SIZE, slot size, reserve), exactly as `sluice send` does, so a reply
// reaches a shell agent that has not received anything yet. A message that is not delivered
// anyway (destination stayed full, circuit open, too large, cannot be created) is never
// silent: one line on stderr naming the destination and the reason, counted in
// stats().send_failures, and run_agent then returns the exit code `sluice send` would have
// given (75, 69, 65, 71, 77) instead of 0, so a job that lost a message does not exit 0 and
// `sluice launch` reports the agent as not ended cleanly.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "backpressure/send_policy.hpp"
#include "inbox/inbox.hpp"

namespace caf {
class actor;
class actor_system;
}  // namespace caf

namespace sluice::actors {

struct agent_options {
  std::string name;                // empty: $SLUICE_AGENT
  std::filesystem::path bus_dir;   // empty: --dir/--bus rules from $SLUICE_DIR / $SLUICE_BUS
  backpressure::send_policy send;  // how send/reply wait on a full destination
  std::uint32_t batch_size = 0;    // 0: from bus.ctl (else CFN_BATCH_SIZE rules)
  std::chrono::milliseconds idle_wait{100};  // doorbell wait per turn while the inbox is empty
  bool handle_signals = true;                // SIGTERM/SIGINT stop the agent cleanly
  // A message that could not be delivered makes run_agent return non-zero (see the top).
  // false: for agents that check every send's status and deal with it themselves (e.g.
  // hand the message to someone else); failures are still logged and counted.
  bool lost_message_fails_exit = true;
};

struct agent_stats {
  std::uint64_t received = 0;
  std::uint64_t batches = 0;
  std::uint64_t sent = 0;
  std::uint64_t full = 0;                // no-wait sends (send.wait = false) that found it full
  std::uint64_t send_failures = 0;       // other sends that did not reach the destination (logged)
  std::uint64_t backpressure_waits = 0;  // waits on full destinations, summed over sends
  std::chrono::nanoseconds backpressure_time{0};
};

// The agent's side of the bus, handed to every handler call.
class agent {
 public:
  struct impl;
  explicit agent(impl& p) noexcept : p_(&p) {}

  const std::string& name() const noexcept;
  const std::filesystem::path& bus_dir() const noexcept;

  // Backpressured send to another agent's inbox (opened, or created as `sluice send` creates
  // it, on first use and kept). `to` may be `agent@peer`: the message then goes into
  // `bridge-<peer>`, the outbound inbox of the running `sluice bridge` to that peer, as
  // `sluice send` does. Anything but `sent` (or `full` for a no-wait policy) is a lost
  // message: logged, counted, and it sets run_agent's exit code (see the top).
  backpressure::send_status send(std::string_view to, std::string_view type,
                                 std::string_view payload,
                                 inbox::priority prio = inbox::priority::normal);
  // The full outcome, for callers that report attempts and waits.
  backpressure::send_outcome send_detailed(std::string_view to, std::string_view type,
                                           std::string_view payload,
                                           inbox::priority prio = inbox::priority::normal);
  // send() to the message's sender.
  backpressure::send_status reply(const inbox::received_message& to, std::string_view type,
                                  std::string_view payload);

  // Finish after the current batch (committed) and return from run_agent.
  void stop(int exit_code = 0) noexcept;
  bool stopping() const noexcept;

  const agent_stats& stats() const noexcept;
  // Pending messages in the agent's own inbox.
  std::uint64_t backlog() const noexcept;

 private:
  impl* p_;
};

struct agent_handlers {
  // Each received message, in delivery order.
  std::function<void(agent&, const inbox::received_message&)> on_message;
  // Once, after the inbox is attached and before the first batch.
  std::function<void(agent&)> on_start;
  // After every batch, and every idle_wait while the inbox stays empty: where a producer
  // sends its next messages without a thread of its own.
  std::function<void(agent&)> on_idle;
};

// Spawns the pump as a detached actor (it blocks on the inbox doorbell, so it gets its own
// thread). It quits when a handler calls stop(), on SIGTERM/SIGINT, or when the inbox
// cannot be attached (logged); *exit_code (if given) receives run_agent's code.
caf::actor spawn_agent(caf::actor_system& sys, agent_handlers handlers, agent_options opts = {},
                       std::shared_ptr<int> exit_code = nullptr);

// Builds an actor system, runs the agent until it stops and returns the process exit code:
// the code given to stop() (0 by default or on a signal), 1 if a handler threw, 69 when the
// inbox cannot be attached; where that would be 0, the code of the first lost message (see
// the top) if any was lost.
int run_agent(agent_handlers handlers, agent_options opts = {});

}  // namespace sluice::actors
