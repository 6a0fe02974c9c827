#pragma once
// Two buses in two temp directories, each with a real `sluice bridge` process, joined over
// 127.0.0.1: east listens on a port the OS picks (the first start reports it; restarts reuse
// it), west connects. Conditions are awaited by polling files with a deadline, never slept on.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/bridge_status.hpp"
#include "support/await.hpp"
#include "support/process.hpp"

namespace sluice::test {

inline std::optional<runtime::bridge_link_status> link_of(const bus_fixture& bus,
                                                          const std::string& peer) {
  for (auto& s : runtime::read_bridge_statuses(bus.dir()))
    if (s.peer == peer) return s;
  return std::nullopt;
}

struct bridged_buses {
  bus_fixture east;
  bus_fixture west;
  std::optional<process> east_bridge;
  std::optional<process> west_bridge;
  std::uint16_t port = 0;
  std::uint16_t west_dials = 0;  // where west connects when not east's port (a relay)
  std::vector<std::string> east_extra;
  std::vector<std::string> west_extra;

  void start_east() {
    std::vector<std::string> args{"bridge", "--name", "east", "--listen",
                                  "127.0.0.1:" + std::to_string(port)};
    args.insert(args.end(), east_extra.begin(), east_extra.end());
    east_bridge.emplace(east.options_for(args));
    const auto line = east_bridge->read_line(std::chrono::seconds(15));
    REQUIRE(line);
    const auto j = nlohmann::json::parse(*line);
    REQUIRE(j.at("event") == "listening");
    port = j.at("port").get<std::uint16_t>();
  }
  void start_west() {
    std::vector<std::string> args{"bridge", "--name", "west", "--connect",
                                  "127.0.0.1:" + std::to_string(west_dials ? west_dials : port)};
    args.insert(args.end(), west_extra.begin(), west_extra.end());
    west_bridge.emplace(west.options_for(args));
  }
  // Both running bridge processes (not a killed predecessor) report the link connected.
  void await_connected() {
    REQUIRE(eventually([&] {
      auto w = link_of(west, "east");
      auto e = link_of(east, "west");
      return w && e && w->state == "connected" && e->state == "connected" &&
             w->pid == static_cast<std::uint64_t>(west_bridge->pid()) &&
             e->pid == static_cast<std::uint64_t>(east_bridge->pid());
    }));
  }
  void start() {
    start_east();
    start_west();
    await_connected();
  }
  void stop() {
    for (auto* p : {&west_bridge, &east_bridge}) {
      if (!*p) continue;
      (*p)->signal(SIGTERM);
      const auto r = (*p)->finish({}, std::chrono::seconds(10));
      INFO(r.err);
      CHECK(r.exit_code == 0);
      p->reset();
    }
  }
};

}  // namespace sluice::test
