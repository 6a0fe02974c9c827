#include "actors/bridge/credit.hpp"

#include <algorithm>

namespace sluice::actors {

std::uint32_t send_window::intern(std::string_view dest) {
  if (const auto it = dest_index_.find(std::string(dest)); it != dest_index_.end())
    return it->second;
  const auto index = static_cast<std::uint32_t>(dests_.size());
  dests_.push_back({std::string(dest)});
  dest_index_.emplace(std::string(dest), index);
  return index;
}

send_window::source& send_window::src_at(source_id src) {
  if (src >= sources_.size()) sources_.resize(src + 1);
  return sources_[src];
}

const send_window::slot& send_window::at(source_id src, std::size_t index) const {
  const auto& s = sources_.at(src);
  return s.entries.at(index - s.base);
}

send_window::slot& send_window::at(source_id src, std::size_t index) {
  auto& s = sources_.at(src);
  return s.entries.at(index - s.base);
}

void send_window::load(source_id src, const std::vector<entry>& batch, bool divert) {
  clear(src);
  append(src, batch, divert);
}

void send_window::append(source_id src, const std::vector<entry>& batch, bool divert) {
  auto& s = src_at(src);
  // Consecutive messages mostly go to the same inbox: look a name up once per run.
  std::uint32_t last = 0;
  bool have_last = false;
  for (const auto& e : batch) {
    if (e.skip || e.moved) {
      s.entries.push_back({e.id, 0, e.skip ? state::skipped : state::moved});
      ++s.settled;
      continue;
    }
    if (!have_last || e.dest != dests_[last].name) {
      last = intern(e.dest);
      have_last = true;
    }
    auto& d = dests_[last];
    if (!d.granted && !d.asked) {
      d.asked = true;
      wants_.push_back(d.name);
    }
    const bool diverted = divert && d.spilling;
    s.entries.push_back({e.id, last, diverted ? state::diverted : state::waiting});
    if (diverted) ++s.diverted;
  }
}

void send_window::settle(const sent_ref& r, state st) {
  at(r.src, r.index).st = st;
  ++sources_[r.src].settled;
}

std::size_t send_window::on_ack(std::uint64_t through, const std::vector<std::uint64_t>& parked) {
  std::size_t settled = 0;
  const auto is_parked = [&](std::uint64_t seq) {
    return std::find(parked.begin(), parked.end(), seq) != parked.end();
  };
  // A parked message the receiver has since delivered is no longer in its list.
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->first <= through && !is_parked(it->first)) {
      settle(it->second, state::acked);
      ++settled;
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
  while (!log_.empty() && log_.front().seq <= through) {
    const auto r = log_.front();
    log_.pop_front();
    if (is_parked(r.seq)) {
      parked_.emplace(r.seq, r);
    } else {
      settle(r, state::acked);
      ++settled;
    }
  }
  return settled;
}

void send_window::grant(std::string_view dest, std::uint64_t limit) {
  auto& d = dests_[intern(dest)];
  d.granted = true;
  d.limit = std::max(d.limit, limit);
}

std::vector<std::string> send_window::take_wants() {
  std::vector<std::string> out;
  out.swap(wants_);
  return out;
}

std::vector<std::string> send_window::blocked(source_id src) const {
  std::vector<std::string> out;
  if (src >= sources_.size()) return out;
  std::vector<bool> seen(dests_.size(), false);
  const auto& s = sources_[src];
  for (std::size_t i = s.first_open; i < s.entries.size(); ++i) {
    const auto& e = s.entries[i];
    if (e.st != state::waiting || seen[e.dest]) continue;
    seen[e.dest] = true;
    const auto& d = dests_[e.dest];
    if (d.granted && d.sent >= d.limit) out.push_back(d.name);
  }
  return out;
}

void send_window::set_spilling(std::string_view dest, source_id src) {
  const auto index = intern(dest);
  dests_[index].spilling = true;
  if (src >= sources_.size()) return;
  auto& s = sources_[src];
  for (auto& e : s.entries) {
    if (e.dest == index && e.st == state::waiting) {
      e.st = state::diverted;
      ++s.diverted;
    }
  }
}

void send_window::clear_spilling(std::string_view dest) {
  dests_[intern(dest)].spilling = false;
}

bool send_window::spilling(std::string_view dest) const {
  const auto it = dest_index_.find(std::string(dest));
  return it != dest_index_.end() && dests_[it->second].spilling;
}

std::vector<std::size_t> send_window::diverted(source_id src) const {
  std::vector<std::size_t> out;
  if (src >= sources_.size() || sources_[src].diverted == 0) return out;
  const auto& s = sources_[src];
  for (std::size_t i = 0; i < s.entries.size(); ++i)
    if (s.entries[i].st == state::diverted) out.push_back(s.base + i);
  return out;
}

std::vector<std::size_t> send_window::movable(source_id src) const {
  std::vector<std::size_t> out;
  if (src >= sources_.size() || sources_[src].diverted == 0) return out;
  std::vector<bool> held_back(dests_.size(), false);
  const auto& s = sources_[src];
  const auto& e = s.entries;
  for (std::size_t i = 0; i < e.size(); ++i) {
    switch (e[i].st) {
      case state::sent:
      case state::waiting:
        held_back[e[i].dest] = true;
        break;
      case state::diverted:
        if (!held_back[e[i].dest]) out.push_back(s.base + i);
        break;
      default:
        break;
    }
  }
  return out;
}

void send_window::mark_moved(source_id src, std::size_t index) {
  auto& e = at(src, index);
  if (e.st != state::diverted) return;
  e.st = state::moved;
  ++sources_[src].settled;
  --sources_[src].diverted;
}

bool send_window::loaded(source_id src) const noexcept {
  return src < sources_.size() && !sources_[src].entries.empty();
}

bool send_window::complete(source_id src) const noexcept {
  return loaded(src) && sources_[src].settled == sources_[src].entries.size();
}

namespace {
bool is_settled(send_window::state st) {
  return st == send_window::state::acked || st == send_window::state::moved ||
         st == send_window::state::skipped;
}
}  // namespace

std::size_t send_window::settled_through(source_id src) const noexcept {
  if (src >= sources_.size()) return 0;
  const auto& s = sources_[src];
  std::size_t k = 0;
  while (k < s.entries.size() && is_settled(s.entries[k].st)) ++k;
  return s.base + k;
}

void send_window::drop_through(source_id src, std::size_t index) {
  auto& s = src_at(src);
  while (s.base < index && !s.entries.empty() && is_settled(s.entries.front().st)) {
    s.entries.pop_front();
    ++s.base;
    --s.settled;
    if (s.first_open > 0) --s.first_open;
  }
}

void send_window::clear(source_id src) noexcept {
  if (src >= sources_.size()) return;
  auto& s = sources_[src];
  s.entries.clear();
  s.base = 0;
  s.settled = 0;
  s.first_open = 0;
  s.diverted = 0;
}

std::size_t send_window::begin(source_id src) const noexcept {
  return src < sources_.size() ? sources_[src].base : 0;
}

std::size_t send_window::end(source_id src) const noexcept {
  return src < sources_.size() ? sources_[src].base + sources_[src].entries.size() : 0;
}

std::uint64_t send_window::credits() const noexcept {
  std::uint64_t total = 0;
  for (const auto& d : dests_) total += d.limit > d.sent ? d.limit - d.sent : 0;
  return total;
}

void credit_ledger::on_received(const std::string& dest, std::uint64_t n) {
  dests_[dest].received += n;
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

recent_ids::recent_ids(std::size_t capacity) : order_(capacity) {
  std::size_t slots = 2;
  while (slots < 2 * capacity) slots *= 2;
  table_.assign(slots, 0);
  mask_ = slots - 1;
}

// A peer's ids come in runs (id, id + 1, ...), and the ring holds the latest of them: by their
// low bits they take neighbouring slots without colliding, so the table is walked like the
// ring and stays in cache, and most ids sit in their home slot.
std::size_t recent_ids::home(std::uint64_t id) const noexcept {
  return static_cast<std::size_t>(id) & mask_;
}

std::size_t recent_ids::distance(std::size_t slot) const noexcept {
  return (slot - home(table_[slot] - 1)) & mask_;
}

// Robin Hood order: along a probe run, entries never lie nearer their home than an entry
// before them lies to its own. So a search stops at the first entry nearer its home than the
// search has come.
bool recent_ids::contains(std::uint64_t id) const noexcept {
  if (order_.empty()) return false;
  std::size_t i = home(id);
  for (std::size_t d = 0; table_[i] != 0 && d <= distance(i); ++d, i = (i + 1) & mask_)
    if (table_[i] == id + 1) return true;
  return !overflow_.empty() && overflow_.count(id) != 0;
}

// Backward shift: the entries after the hole move up one until one is at its home (or the
// slot is empty), so no tombstones pile up.
void recent_ids::erase(std::uint64_t id) noexcept {
  std::size_t i = home(id);
  for (std::size_t d = 0;; ++d, i = (i + 1) & mask_) {
    if (table_[i] == 0 || d > distance(i)) {
      if (!overflow_.empty()) overflow_.erase(id);
      return;
    }
    if (table_[i] == id + 1) break;
  }
  for (std::size_t next = (i + 1) & mask_; table_[next] != 0 && distance(next) > 0;
       i = next, next = (next + 1) & mask_)
    table_[i] = table_[next];
  table_[i] = 0;
}

// Ids that share their low bits (a peer's choice, or old ids from a holding inbox landing on
// new ones) would make long probe runs: the entry that would lie more than max_probe past its
// home goes to the overflow set instead, so every operation stays bounded.
void recent_ids::place(std::uint64_t id) {
  std::uint64_t carried = id + 1;
  std::size_t i = home(id);
  for (std::size_t d = 0; d <= max_probe; ++d, i = (i + 1) & mask_) {
    if (table_[i] == 0) {
      table_[i] = carried;
      return;
    }
    if (const auto resident = distance(i); resident < d) {
      std::swap(carried, table_[i]);
      d = resident;
    }
  }
  overflow_.insert(carried - 1);
}

void recent_ids::insert(std::uint64_t id) {
  if (order_.empty() || id == UINT64_MAX || contains(id)) return;
  if (count_ == order_.size()) {
    erase(order_[next_]);
    --count_;
  }
  place(id);
  order_[next_] = id;
  next_ = (next_ + 1) % order_.size();
  ++count_;
}

}  // namespace sluice::actors
