#pragma once
// Wakes a bridge's sender when its outbound inbox gets a message, without polling (no CAF
// here). The inbox's not_empty doorbell is a futex, and waiting on it blocks a thread, which a
// CAF scheduler thread must not do (it would stall every actor queued behind it). So each peer
// has one thread of its own that waits on the doorbell, only while armed, and calls back once
// when a message is there. It waits through an inbox object of its own that never consumes:
// it then judges "a message is there" from the committed heads in shared memory and shares no
// state with the sender's consumer. The sender arms it only right after finding the inbox
// empty with nothing uncommitted, so the committed heads are exact and no message is missed:
// one published in between is seen by the first check inside wait_not_empty.
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "inbox/inbox.hpp"

namespace sluice::actors {

class doorbell_watch {
 public:
  doorbell_watch(std::filesystem::path bus_dir, std::string agent);
  // Stops the thread; waits for at most one wait slice.
  ~doorbell_watch();
  doorbell_watch(const doorbell_watch&) = delete;
  doorbell_watch& operator=(const doorbell_watch&) = delete;

  // Calls on_ring once, on the watch's thread, as soon as the inbox holds a message (at once
  // if it already does). Replaces a callback armed before, by any owner. on_ring must not
  // block.
  void arm(const void* owner, std::function<void()> on_ring);
  // Drops the callback if `owner` armed it (a sender of an old connection must not disarm the
  // watch its successor armed).
  void disarm(const void* owner);

 private:
  void run();

  std::filesystem::path bus_dir_;
  std::string agent_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::function<void()> on_ring_;  // set while armed
  const void* owner_ = nullptr;
  std::optional<inbox::inbox> box_;  // the thread's own, opened on first use
  std::thread thread_;  // started on first arm
};

}  // namespace sluice::actors
