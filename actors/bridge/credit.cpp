#include "actors/bridge/credit.hpp"

#include <algorithm>

namespace sluice::actors {

void credit_window::load(std::vector<entry> batch) {
  batch_ = std::move(batch);
  sent_.assign(batch_.size(), false);
  acked_flags_.assign(batch_.size(), false);
  cursor_ = 0;
  acked_ = 0;
  sent_count_ = 0;
  acked_sent_ = 0;
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    if (!batch_[i].skip) continue;
    acked_flags_[i] = true;
    ++acked_;
  }
  while (cursor_ < batch_.size() && batch_[cursor_].skip) ++cursor_;
}

std::optional<std::size_t> credit_window::next_sendable() const noexcept {
  if (cursor_ >= batch_.size()) return std::nullopt;
  const auto it = dests_.find(batch_[cursor_].dest);
  if (it == dests_.end() || it->second.sent >= it->second.limit) return std::nullopt;
  return cursor_;
}

void credit_window::mark_sent(std::size_t index) {
  if (index != cursor_ || index >= batch_.size()) return;
  sent_[index] = true;
  ++sent_count_;
  ++dests_[batch_[index].dest].sent;
  ++cursor_;
  while (cursor_ < batch_.size() && batch_[cursor_].skip) ++cursor_;
}

bool credit_window::ack(std::uint64_t id) {
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    if (batch_[i].id != id || !sent_[i] || acked_flags_[i]) continue;
    acked_flags_[i] = true;
    ++acked_;
    ++acked_sent_;
    return true;
  }
  return false;
}

void credit_window::grant(const std::string& dest, std::uint64_t limit) {
  auto& d = dests_[dest];
  d.granted = true;
  d.limit = std::max(d.limit, limit);
}

std::vector<std::string> credit_window::take_wants() {
  std::vector<std::string> out;
  if (cursor_ >= batch_.size()) return out;
  auto& d = dests_[batch_[cursor_].dest];
  if (!d.granted && !d.asked) {
    d.asked = true;
    out.push_back(batch_[cursor_].dest);
  }
  return out;
}

void credit_window::clear() noexcept {
  batch_.clear();
  sent_.clear();
  acked_flags_.clear();
  cursor_ = acked_ = sent_count_ = acked_sent_ = 0;
}

std::uint64_t credit_window::credits() const noexcept {
  std::uint64_t total = 0;
  for (const auto& [name, d] : dests_) total += d.limit > d.sent ? d.limit - d.sent : 0;
  return total;
}

void credit_ledger::on_received(const std::string& dest) {
  ++dests_[dest].received;
}

void credit_ledger::on_parked(const std::string& dest) {
  ++dests_[dest].parked;
}

void credit_ledger::on_unparked(const std::string& dest) {
  auto& d = dests_[dest];
  if (d.parked > 0) --d.parked;
}

std::uint64_t credit_ledger::limit(const std::string& dest, std::uint64_t free_slots) {
  auto& d = dests_[dest];
  const std::uint64_t room = free_slots > d.parked ? free_slots - d.parked : 0;
  d.granted = std::max(d.granted, d.received + room);
  return d.granted;
}

std::optional<std::uint64_t> credit_ledger::fresh_grant(const std::string& dest,
                                                        std::uint64_t free_slots) {
  const auto before = dests_[dest].granted;
  const auto now = limit(dest, free_slots);
  if (now > before) return now;
  return std::nullopt;
}

std::vector<std::string> credit_ledger::destinations() const {
  std::vector<std::string> out;
  out.reserve(dests_.size());
  for (const auto& [name, d] : dests_) out.push_back(name);
  return out;
}

void recent_ids::insert(std::uint64_t id) {
  if (capacity_ == 0 || !set_.insert(id).second) return;
  order_.push_back(id);
  if (order_.size() > capacity_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace sluice::actors
