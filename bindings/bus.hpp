#pragma once
// The bus as a language binding sees it: the thin C++ layer under the Python module and the
// Node addon (docs/architecture.md section 13). It is the library `sluice` itself uses
// (inbox, backpressure, runtime), not the CLI: a send is one backpressured push into shared
// memory, with the CLI's rules:
//   - the bus is a name (/dev/shm/sluice/<name>), a directory, or, given neither,
//     $SLUICE_DIR / $SLUICE_BUS / "default", as for `sluice`; it must be a directory only the
//     caller (or root, or with `group` the bus group) controls;
//   - a destination inbox that does not exist is created with the configured geometry
//     (MAX_INBOX_SIZE, SLUICE_SLOT_SIZE, ...), unless the payload would not fit it;
//   - backoff base and batch size come from bus.ctl (the load monitor) while it is fresh,
//     else from the configuration, read once when the bus is opened;
//   - `agent@peer` goes into the bridge's outbound inbox, as `sluice send` does;
//   - every failure is a bindings::error carrying the kind and message `sluice` would give.
// Thread-safe: sends, peeks and stats may run on any thread at once.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings/errors.hpp"
#include "bindings/waiter.hpp"
#include "inbox/inbox.hpp"
#include "runtime/bus_control.hpp"

namespace sluice::bindings {

struct open_options {
  std::string name;           // a bus name: /dev/shm/sluice/<name>
  std::filesystem::path dir;  // or a directory (not both: bad_input)
  bool group = false;         // a group bus: inboxes 0660, shared with the bus group
};

struct send_options {
  inbox::priority prio = inbox::priority::normal;
  // How long a send may wait on a full inbox; unset: the configured budget
  // (BACKPRESSURE_MAX_RETRIES x BACKPRESSURE_WAIT_MS, 5 s at defaults).
  std::optional<std::chrono::nanoseconds> timeout;
  bool wait = true;  // false: a full inbox fails the send at once
  inbox::overflow_policy overflow = inbox::overflow_policy::reject;
};

// One row of `sluice get-stats`.
struct inbox_report {
  std::string agent;
  std::vector<std::pair<const char*, std::uint64_t>> counters;  // get-stats keys, in order
  std::string breaker;                                          // closed, open, half_open
  std::string error;  // not empty: the inbox could not be read (no counters then)
};

// true when type matches `sluice send`'s rule: 1-32 of A-Z a-z 0-9 _ - . :
bool is_valid_type(std::string_view type) noexcept;

class bus {
 public:
  static std::shared_ptr<bus> open(const open_options& opts);

  const std::filesystem::path& dir() const noexcept { return dir_; }

  // One message, with backpressure; returns its id. Waits run through `w`.
  std::uint64_t send(std::string_view from, std::string_view to, std::string_view type,
                     std::string_view payload, const send_options& opts, waiter& w);
  // One push without waiting: the id, or nullopt when the inbox is full (the caller may then
  // wait with send() elsewhere). Every other failure throws as send() does.
  std::optional<std::uint64_t> try_send(std::string_view from, std::string_view to,
                                        std::string_view type, std::string_view payload,
                                        const send_options& opts);

  // Pending messages without consuming them (an inbox that does not exist is empty).
  std::vector<inbox::message> peek(std::string_view agent, std::size_t max);
  std::uint64_t count(std::string_view agent);
  // Every inbox of the bus, sorted by name; one inbox's row (not_found when it is missing).
  std::vector<inbox_report> stats();
  inbox_report stats(std::string_view agent);
  std::vector<std::string> agents() const;

  // The batch size to use now: bus.ctl's while the load monitor keeps it fresh, else the
  // configured one (CFN_BATCH_SIZE).
  std::uint32_t batch_size();

  // An inbox of this bus, opened once and kept: created (bus directory too) when `create`
  // and missing, else nullptr when missing. payload_size: a new inbox must take it (address:
  // the destination as the sender wrote it, agent@peer for an outbound inbox; for the error).
  inbox::inbox* inbox_of(std::string_view agent, bool create, std::size_t payload_size = 0,
                         std::string_view address = {});

  bus(std::filesystem::path dir, bool group);

 private:
  struct resolved;
  resolved resolve(std::string_view from, std::string_view to, std::string_view type,
                   std::string_view& payload, std::string& wrapped, const send_options& opts);
  runtime::rate_policy policy_now();

  std::filesystem::path dir_;
  bool group_;
  inbox::create_options new_inbox_{};
  std::uint32_t max_retries_ = 0;
  runtime::rate_policy configured_{};

  // The bus policy every send obeys (governance/), behind a lock: sends come from any thread.
  class policy_gate;
  std::shared_ptr<policy_gate> gate_;

  std::mutex mu_;  // guards what follows
  std::map<std::string, std::unique_ptr<inbox::inbox>, std::less<>> inboxes_;
  std::optional<runtime::bus_control> control_;
  std::chrono::steady_clock::time_point next_control_try_{};
};

}  // namespace sluice::bindings
