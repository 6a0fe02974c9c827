#pragma once
// What the actors of one bridge process share (no CAF here): the configuration, and per peer
// the counters that the status reporter writes to bridge-<peer>.json and metrics.jsonl.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "actors/bridge/credit.hpp"
#include "inbox/inbox.hpp"
#include "runtime/bridge_status.hpp"

namespace sluice::actors {

// How many delivered ids a receiver remembers per peer to drop resends (one id is 8 bytes
// plus hash-set overhead: about 4 MB at this size, far more than one batch in flight).
inline constexpr std::size_t remembered_ids = 65536;

struct bridge_peer {
  // relaxed: display counters, written by one link actor, read by the status reporter; no
  // other memory depends on their values.
  std::atomic<std::uint64_t> credits{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> resent{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> undeliverable{0};
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> held{0};
  std::atomic<bool> tls{false};

  // Guards the strings and the id sets below: link actors of an old and a new connection
  // may briefly overlap on different threads.
  std::mutex m;
  std::string state = "connecting";
  std::string error;
  std::string endpoint;
  actors::recent_ids delivered{remembered_ids};  // receiver: drop resends
  // Sender: ids an earlier connection put on the wire and nobody committed yet, per source
  // ("" the outbound inbox, else a holding inbox's destination), so a connection that reads
  // them again counts them as resent. A connection adds what it sent and did not commit when
  // it ends; commits erase. On a link that never dropped it stays empty and costs nothing.
  std::map<std::string, std::unordered_set<std::uint64_t>> transmitted;
  // Sender: ids of the uncommitted outbound window already moved into holding inboxes, so a
  // later connection re-reading them does not move them twice.
  std::unordered_set<std::uint64_t> moved;

  void set_endpoint(std::string e) {
    std::lock_guard<std::mutex> lock(m);
    endpoint = std::move(e);
  }
  void set_state(std::string s, std::string err = {}) {
    std::lock_guard<std::mutex> lock(m);
    state = std::move(s);
    if (!err.empty()) error = std::move(err);
  }
};

struct bridge_context {
  std::filesystem::path bus_dir;
  std::string name;
  std::string secret;  // empty: no authentication
  bool tls = false;    // every link runs TLS (--tls-cert, --tls-key, --tls-ca)
  std::string endpoint;
  inbox::create_options inbox_opts;  // for inboxes the bridge creates
  std::size_t batch = 512;           // the most messages read from an inbox and not yet committed
  // How often a sender waiting for its bell looks at the inbox anyway (bell.hpp); the tests
  // make it long, so only the bell can wake a sender in time.
  std::chrono::milliseconds bell_recheck = inbox::bell_recheck;

  std::shared_ptr<bridge_peer> peer(const std::string& peer_name) {
    std::lock_guard<std::mutex> lock(m_);
    auto& p = peers_[peer_name];
    if (!p) {
      p = std::make_shared<bridge_peer>();
      p->endpoint = endpoint;
    }
    return p;
  }
  // The peer's entry if it has one; never creates it.
  std::shared_ptr<bridge_peer> find_peer(const std::string& peer_name) {
    std::lock_guard<std::mutex> lock(m_);
    const auto it = peers_.find(peer_name);
    return it == peers_.end() ? nullptr : it->second;
  }
  std::map<std::string, std::shared_ptr<bridge_peer>> peers() {
    std::lock_guard<std::mutex> lock(m_);
    return peers_;
  }

  // One link per peer name: the listener and each --connect claim a peer before linking it,
  // so two connections to the same bridge (both sides dialing each other, or two --connect
  // reaching one bridge) do not fight over its outbound inbox. The owner may claim again.
  bool claim(const std::string& peer_name, const void* owner) {
    std::lock_guard<std::mutex> lock(m_);
    auto [it, added] = owners_.emplace(peer_name, owner);
    return added || it->second == owner;
  }
  void release(const std::string& peer_name, const void* owner) {
    std::lock_guard<std::mutex> lock(m_);
    if (auto it = owners_.find(peer_name); it != owners_.end() && it->second == owner)
      owners_.erase(it);
  }

 private:
  std::mutex m_;
  std::map<std::string, std::shared_ptr<bridge_peer>> peers_;
  std::map<std::string, const void*> owners_;
};

}  // namespace sluice::actors
