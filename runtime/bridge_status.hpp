#pragma once
// The state of a bridge link as a small JSON file in the bus directory,
// `<bus>/bridge-<peer>.json`, so CAF-free readers (`sluice get-stats`, `sluice top`, the
// monitors' metrics.prom) can show it without talking to the bridge process. The bridge rewrites it
// atomically (write a temp file, rename) whenever it reports; a reader sees the old or the new
// file, never half of one.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/result.hpp"

namespace sluice::runtime {

struct bridge_link_status {
  std::string peer;              // the far bridge's name
  std::string name;              // this bridge's name
  std::string state;             // connecting | handshake | connected | backoff | refused | stopped
  std::string endpoint;          // host:port listened on or dialled
  std::string outbound;          // the outbound inbox, bridge-<peer>
  std::uint64_t credits = 0;     // messages the far side lets us send now
  std::uint64_t in_flight = 0;   // sent, not yet acknowledged
  std::uint64_t sent = 0;        // first transmissions
  std::uint64_t resent = 0;      // transmissions of a message sent before (after a drop)
  std::uint64_t acked = 0;       // acknowledged by the far side (then committed here)
  std::uint64_t received = 0;    // messages from the far side pushed into local inboxes
  std::uint64_t duplicates = 0;  // resends from the far side already delivered (not pushed)
  std::uint64_t undeliverable = 0;  // no valid envelope, or too large for the destination
  std::uint64_t connects = 0;       // successful handshakes
  std::uint64_t held = 0;           // messages waiting in holding inboxes for full destinations
  bool tls = false;                 // the link is encrypted (--tls-cert)
  std::uint64_t pid = 0;            // the bridge process
  std::string error;                // last refusal or connection error
  std::string updated;              // ISO-8601 UTC timestamp of this report
};

std::filesystem::path bridge_status_file(const std::filesystem::path& bus_dir,
                                         const std::string& peer);

// Writes the file atomically (temp + rename), mode 0600.
runtime::status write_bridge_status(const std::filesystem::path& bus_dir,
                                    const bridge_link_status& s);

// Every readable bridge-*.json of the bus, sorted by peer; unreadable files are skipped.
std::vector<bridge_link_status> read_bridge_statuses(const std::filesystem::path& bus_dir);

// The link whose outbound inbox is `agent` (bridge-<peer>), for `get-stats` rows.
std::optional<bridge_link_status> bridge_status_of_inbox(const std::filesystem::path& bus_dir,
                                                         const std::string& agent);

std::string to_json(const bridge_link_status& s);

}  // namespace sluice::runtime
