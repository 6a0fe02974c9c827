#include "actors/bridge/doorbell_watch.hpp"

#include <chrono>

namespace sluice::actors {

namespace {

// How long one futex wait lasts before the thread looks whether it is still armed or asked to
// stop: bounds how long a destructor waits, costs one wake-up per slice on an idle link.
constexpr auto wait_slice = std::chrono::milliseconds(100);
// After the inbox could not be opened or broke, before trying again.
constexpr auto reopen_pause = std::chrono::milliseconds(20);

}  // namespace

doorbell_watch::doorbell_watch(std::filesystem::path bus_dir, std::string agent)
    : bus_dir_(std::move(bus_dir)), agent_(std::move(agent)) {}

doorbell_watch::~doorbell_watch() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stop_ = true;
    on_ring_ = nullptr;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void doorbell_watch::arm(const void* owner, std::function<void()> on_ring) {
  {
    std::lock_guard<std::mutex> lock(m_);
    on_ring_ = std::move(on_ring);
    owner_ = owner;
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_all();
}

void doorbell_watch::disarm(const void* owner) {
  std::lock_guard<std::mutex> lock(m_);
  if (owner_ != owner) return;
  on_ring_ = nullptr;
  owner_ = nullptr;
}

void doorbell_watch::run() {
  std::unique_lock<std::mutex> lock(m_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || on_ring_ != nullptr; });
    if (stop_) return;
    lock.unlock();
    // box_ is touched by this thread only.
    if (!box_) {
      if (auto b = inbox::inbox::open(bus_dir_, agent_)) box_.emplace(std::move(b.value()));
    }
    auto woke = inbox::wake_reason::timed_out;
    if (box_) {
      woke = box_->wait_not_empty(wait_slice);
      if (woke == inbox::wake_reason::broken) box_.reset();
    }
    lock.lock();
    if (woke == inbox::wake_reason::rang && on_ring_) {
      auto f = std::move(on_ring_);
      on_ring_ = nullptr;
      owner_ = nullptr;
      lock.unlock();
      f();
      lock.lock();
    } else if (!box_ && !stop_) {
      cv_.wait_for(lock, reopen_pause, [this] { return stop_; });
    }
  }
}

}  // namespace sluice::actors
