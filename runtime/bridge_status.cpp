#include "runtime/bridge_status.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "inbox/files/read_file.hpp"
#include "runtime/atomic_file.hpp"

namespace sluice::runtime {

namespace {

constexpr std::string_view file_prefix = "bridge-";
constexpr std::string_view file_suffix = ".json";

nlohmann::json to_object(const bridge_link_status& s) {
  return {{"peer", s.peer},
          {"name", s.name},
          {"state", s.state},
          {"endpoint", s.endpoint},
          {"outbound", s.outbound},
          {"credits", s.credits},
          {"in_flight", s.in_flight},
          {"sent", s.sent},
          {"resent", s.resent},
          {"acked", s.acked},
          {"received", s.received},
          {"duplicates", s.duplicates},
          {"undeliverable", s.undeliverable},
          {"connects", s.connects},
          {"held", s.held},
          {"tls", s.tls},
          {"pid", s.pid},
          {"error", s.error},
          {"updated", s.updated}};
}

template <class T>
void read_field(const nlohmann::json& j, const char* key, T& out) {
  if (!j.contains(key)) return;
  const auto& v = j[key];
  if constexpr (std::is_same_v<T, std::string>) {
    if (v.is_string()) out = v.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (v.is_boolean()) out = v.get<bool>();
  } else {
    if (v.is_number_unsigned()) out = v.get<T>();
  }
}

}  // namespace

std::filesystem::path bridge_status_file(const std::filesystem::path& bus_dir,
                                         const std::string& peer) {
  return bus_dir / (std::string(file_prefix) + peer + std::string(file_suffix));
}

std::string to_json(const bridge_link_status& s) {
  return to_object(s).dump();
}

runtime::status write_bridge_status(const std::filesystem::path& bus_dir,
                                    const bridge_link_status& s) {
  return write_file_atomically(bridge_status_file(bus_dir, s.peer), to_json(s) + "\n", 0600);
}

std::vector<bridge_link_status> read_bridge_statuses(const std::filesystem::path& bus_dir) {
  std::vector<bridge_link_status> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(bus_dir, ec)) {
    const std::string file = e.path().filename().string();
    if (file.size() <= file_prefix.size() + file_suffix.size() || file.rfind(file_prefix, 0) != 0 ||
        file.compare(file.size() - file_suffix.size(), file_suffix.size(), file_suffix) != 0)
      continue;
    if (!e.is_regular_file(ec) || e.is_symlink(ec)) continue;
    constexpr std::size_t max_status_bytes = 64 * 1024;
    const auto text = inbox::read_file(e.path(), max_status_bytes, false);
    if (text.error != 0) continue;
    const auto j = nlohmann::json::parse(text.text, nullptr, false);
    if (!j.is_object()) continue;
    bridge_link_status s;
    read_field(j, "peer", s.peer);
    read_field(j, "name", s.name);
    read_field(j, "state", s.state);
    read_field(j, "endpoint", s.endpoint);
    read_field(j, "outbound", s.outbound);
    read_field(j, "credits", s.credits);
    read_field(j, "in_flight", s.in_flight);
    read_field(j, "sent", s.sent);
    read_field(j, "resent", s.resent);
    read_field(j, "acked", s.acked);
    read_field(j, "received", s.received);
    read_field(j, "duplicates", s.duplicates);
    read_field(j, "undeliverable", s.undeliverable);
    read_field(j, "connects", s.connects);
    read_field(j, "held", s.held);
    read_field(j, "tls", s.tls);
    read_field(j, "pid", s.pid);
    read_field(j, "error", s.error);
    read_field(j, "updated", s.updated);
    if (s.peer.empty()) continue;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.peer < b.peer; });
  return out;
}

std::optional<bridge_link_status> bridge_status_of_inbox(const std::filesystem::path& bus_dir,
                                                         const std::string& agent) {
  if (agent.rfind(file_prefix, 0) != 0) return std::nullopt;
  for (auto& s : read_bridge_statuses(bus_dir))
    if (s.outbound == agent) return std::move(s);
  return std::nullopt;
}

}  // namespace sluice::runtime
