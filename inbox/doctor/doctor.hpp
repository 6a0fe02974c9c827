#pragma once
// sluice doctor: what is wrong with an inbox file after its processes died, and the repairs
// that make it usable again without losing a pending message.
//
// | property    | value                                                                    |
// |-------------|--------------------------------------------------------------------------|
// | diagnose    | read-only: geometry, pending per lane, the recorded consumer pid (alive or |
// |             | dead) and whether anyone holds the consumer lock, claimed-but-unpublished |
// |             | slots whose claimant is gone, admissions taken and never given back, and  |
// |             | whether the counters add up. Safe while producers and a consumer run      |
// |             | (their in-flight work may then show as transient findings)                |
// | repair      | takes the consumer lock (refused while a live consumer holds it), so it   |
// |             | acts as the consumer would on attach: finishes a commit a dead consumer   |
// |             | left half done, returns leaked admissions, marks the slots of dead or     |
// |             | never-stamped claimants abandoned (counted when a consumer commits past   |
// |             | them, as after its grace period) and clears a stale consumer pid;         |
// |             | remove_leftover_temp_files() removes what creators that died left behind  |
// | never       | touches a pending published slot, moves a head or changes a payload:     |
// |             | every pending message is still pending, in the same order, after a repair |
// | lock        | the flock itself needs no repair: the kernel releases it when its holder |
// |             | dies                                                                      |
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "inbox/inbox.hpp"
#include "inbox/result.hpp"

namespace sluice::inbox {

enum class finding_kind {
  stale_consumer_pid,  // a consumer pid is recorded but no process holds the consumer lock
  abandoned_claim,     // a slot is claimed but unpublished and its claimant is gone
  leaked_admissions,   // admissions taken by producers that died before claiming a slot
  counter_mismatch,    // the counters do not add up (a damaged header)
  unfinished_commit,   // a consumer died inside commit: committed slots not yet given back
  corrupt_indexes,     // head/tail out of range: the file was damaged, nothing is followed
  closed,              // close() was called: every push answers closed
};
const char* to_string(finding_kind) noexcept;

struct finding {
  finding_kind kind;
  std::string message;  // one line a person can act on
  bool repairable;      // doctor --repair fixes it
};

struct lane_state {
  std::uint64_t head = 0;     // first uncommitted position
  std::uint64_t tail = 0;     // next position to claim
  std::uint64_t pending = 0;  // tail - head (includes slots of dead claimants)
  std::uint32_t ring = 0;
};

struct stuck_slot {
  priority lane = priority::normal;
  std::uint64_t position = 0;
  std::int32_t claimant = 0;  // 0: the producer died between its position claim and its stamp
};

struct diagnosis {
  std::filesystem::path path;
  std::string agent;
  stats counters;  // inbox::snapshot() of the file
  std::uint32_t ring_size = 0;
  std::uint64_t file_size = 0;
  lane_state lanes[lane_count];            // indexed by priority
  std::int32_t recorded_consumer_pid = 0;  // as stored in the header, alive or not
  bool recorded_consumer_alive = false;
  bool consumer_lock_held = false;  // some process holds the flock right now
  std::int64_t leaked_admissions = 0;
  std::int64_t counter_drift = 0;       // committed positions minus the counters that explain them
  std::uint64_t unfreed_committed = 0;  // committed positions not yet given back to senders
  std::vector<stuck_slot> stuck;
  std::vector<finding> findings;

  bool healthy() const noexcept { return findings.empty(); }
};

// Looks at <bus_dir>/<agent>.inbox without changing it. Fails like inbox::open when the file
// cannot be opened or its header is invalid.
result<diagnosis> diagnose(const std::filesystem::path& bus_dir, std::string_view agent);

struct repair_outcome {
  std::vector<std::string> actions;  // what was done, one line each
  diagnosis after;
};

// Repairs what diagnose() reports as repairable. `grace` is how long a claimed position with
// no stamp is left to its producer before it is skipped (a live producer that loses the race
// notices and retries, so a short grace costs a retry, never a message). Fails with
// errc::busy when a live consumer holds the inbox: it recovers the inbox by itself.
result<repair_outcome> repair(const std::filesystem::path& bus_dir, std::string_view agent,
                              std::chrono::milliseconds grace = std::chrono::milliseconds(100));

// Temp files `.<agent>.inbox.tmp.<pid>.<n>` left in bus_dir by creators that died before they
// published or removed them (only those whose pid is gone; a live creator's file is in use).
std::vector<std::filesystem::path> leftover_temp_files(const std::filesystem::path& bus_dir);
// Removes them; returns the files removed.
std::vector<std::filesystem::path> remove_leftover_temp_files(const std::filesystem::path& bus_dir);

}  // namespace sluice::inbox
