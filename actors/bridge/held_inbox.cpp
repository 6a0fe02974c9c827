#include "actors/bridge/held_inbox.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "backpressure/address.hpp"
#include "inbox/files/bus_directory.hpp"
#include "inbox/layout.hpp"
#include "runtime/bus_dir.hpp"

namespace sluice::actors {

namespace {

constexpr std::size_t id_digits = 16;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::filesystem::path held_directory(const std::filesystem::path& bus_dir, std::string_view peer) {
  return bus_dir / (backpressure::outbound_inbox(peer) + ".held");
}

std::string held_payload(std::uint64_t id, std::string_view payload) {
  std::string out = fmt::format("{:016x}\n", id);
  out.append(payload);
  return out;
}

std::optional<held_message> parse_held_payload(std::string_view held) noexcept {
  if (held.size() < held_overhead || held[id_digits] != '\n') return std::nullopt;
  std::uint64_t id = 0;
  for (std::size_t i = 0; i < id_digits; ++i) {
    const int v = hex_value(held[i]);
    if (v < 0) return std::nullopt;
    id = (id << 4) | static_cast<std::uint64_t>(v);
  }
  return held_message{id, held.substr(held_overhead)};
}

runtime::result<inbox::inbox> open_held_inbox(const std::filesystem::path& bus_dir,
                                              std::string_view peer, std::string_view dest,
                                              const inbox::stats& outbound) {
  inbox::create_options o;
  o.capacity = std::max<std::uint32_t>(1, outbound.capacity);
  o.critical_reserve = std::max<std::uint32_t>(1, outbound.critical_reserve);
  o.slot_size = std::min<std::uint32_t>(
      inbox::layout::max_slot_size,
      outbound.slot_size + static_cast<std::uint32_t>(inbox::layout::cache_line));
  auto box = inbox::inbox::open_or_create(held_directory(bus_dir, peer), dest, o);
  if (!box) return box.err();
  return std::move(box.value());
}

std::vector<std::string> held_destinations(const std::filesystem::path& bus_dir,
                                           std::string_view peer) {
  return runtime::list_agents(held_directory(bus_dir, peer));
}

void remove_held_inbox(const std::filesystem::path& bus_dir, std::string_view peer,
                       std::string_view dest) noexcept {
  const auto dir = held_directory(bus_dir, peer);
  std::error_code ec;
  std::filesystem::remove(dir / (std::string(dest) + ".inbox"), ec);
  if (!runtime::list_agents(dir).empty()) return;
  std::filesystem::remove(dir / inbox::bus_marker_name, ec);
  std::filesystem::remove(dir, ec);  // fails, harmlessly, if anything else is in it
}

}  // namespace sluice::actors
