#pragma once
// What a backpressured send may do (policy) and what it did (outcome).
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "backpressure/admission_gate.hpp"
#include "backpressure/backoff.hpp"
#include "backpressure/circuit_breaker.hpp"
#include "backpressure/token_bucket.hpp"
#include "inbox/inbox.hpp"

namespace sluice::backpressure {

inline constexpr std::uint32_t default_max_retries = 50;  // BACKPRESSURE_MAX_RETRIES

// One rate limit to pass before sending; skipped when cell is null.
struct rate_gate {
  token_bucket_cell* cell = nullptr;
  rate_limit limit{};
};

struct send_policy {
  backoff_config backoff{};
  // Waits after the first try: a send makes at most 1 + max_retries attempts.
  std::uint32_t max_retries = default_max_retries;
  // Total time a send may spend waiting. Unset: max_retries x backoff.base, the seed's
  // budget (5 s at defaults), so a sender to a stuck agent does not hang for minutes.
  std::optional<std::chrono::nanoseconds> deadline;
  // false (--no-wait): the first full inbox or empty rate bucket ends the send.
  bool wait = true;
  inbox::overflow_policy overflow = inbox::overflow_policy::reject;
  breaker_config breaker{};
  // Per sender and per sender->destination buckets (runtime/ points them into bus.ctl).
  std::array<rate_gate, 2> rate_gates{};
  // The bus's governance policy (admission_gate.hpp), consulted before every non-critical
  // send; not owned, must outlive the send. Null: no policy.
  admission_gate* gate = nullptr;

  [[nodiscard]] std::chrono::nanoseconds effective_deadline() const noexcept {
    return deadline ? *deadline : backoff.base * max_retries;
  }
};

enum class send_status : std::uint8_t {
  sent,          // in the inbox
  full,          // no-wait mode: the inbox was full
  timed_out,     // retries or deadline exhausted on a full inbox (counts toward the breaker)
  circuit_open,  // the destination's breaker is open: failed fast, nothing waited
  rate_limited,  // the sender's bucket was empty and waiting was not allowed or too long
  rejected,      // the inbox refused the message itself (too large, closed): never retried
  denied,        // the bus's policy refuses this send (a deny rule): never retried
};
const char* to_string(send_status) noexcept;

struct send_outcome {
  send_status status = send_status::rejected;
  std::uint32_t attempts = 0;          // try_push calls
  std::uint32_t waits = 0;             // backpressure waits (retries)
  std::chrono::nanoseconds waited{0};  // time spent in backpressure and rate-limit waits
  std::optional<inbox::push_result> last_push;
  std::optional<inbox::wake_reason> last_wake;  // rang: woken by not_full, not by the timer
  bool probe = false;                       // this send was the breaker's single half-open probe
  std::chrono::nanoseconds retry_after{0};  // circuit_open / rate_limited: try again after
  inbox::push_receipt receipt{};            // valid when sent
};

}  // namespace sluice::backpressure
