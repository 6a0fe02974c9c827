#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "inbox/inbox.hpp"
#include "monitor_test_support.hpp"
#include "monitors/monitor_actors.hpp"
#include "runtime/bus_control.hpp"
#include "support/skip.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using test::eventually;

namespace {

struct running_monitors {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> actors;

  running_monitors() {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  ~running_monitors() {
    for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
};

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

monitors::monitor_settings settings_for(const test::temp_dir& bus, monitors::load_source src) {
  monitors::monitor_settings s;
  s.bus_dir = bus.path() / "bus";
  std::filesystem::create_directory(s.bus_dir);
  s.interval = 100ms;
  s.source = src;
  s.proc_dir = bus.path() / "proc";
  std::filesystem::create_directory(s.proc_dir);
  return s;
}

bool policy_is(const std::filesystem::path& dir, std::uint32_t batch, std::uint32_t wait_ms) {
  auto p = runtime::read_policy(dir, {0, 0});
  return p && p->batch_size == batch && p->backpressure_wait_ms == wait_ms;
}

}  // namespace

TEST_CASE("a loadavg far above the cpu count drives bus.ctl to batch 5 and wait 200 ms") {
  test::temp_dir bus;
  auto s = settings_for(bus, monitors::load_source::loadavg);
  write_file(s.proc_dir / "loadavg", "512.00 300.00 100.00 3/96 7294\n");
  running_monitors m;
  m.actors.push_back(monitors::spawn_load_monitor(*m.sys, s));
  REQUIRE(eventually([&] { return policy_is(s.bus_dir, 5, 200); }));
  auto ctl = runtime::bus_control::open(s.bus_dir);
  REQUIRE(ctl);
  CHECK(ctl->load().level == runtime::load_level::high);
  CHECK(ctl->heartbeat().pid == ::getpid());
  REQUIRE(eventually([&] {
    return test::count_metric(s.bus_dir / "metrics.jsonl", "rate_limit.batch_size") > 0;
  }));
  for (const auto& j : test::read_jsonl(s.bus_dir / "metrics.jsonl")) {
    if (j["metric"] == "rate_limit.batch_size") CHECK(j["value"] == 5);
    if (j["metric"] == "rate_limit.backpressure_wait_ms") CHECK(j["value"] == 200);
    if (j["metric"] == "system.load_per_cpu") CHECK(j["value"].get<double>() > 0.8);
  }
}

TEST_CASE("a missing psi file falls back to the next source and the monitor still publishes") {
  test::temp_dir bus;
  auto s = settings_for(bus, monitors::load_source::psi);
  write_file(s.proc_dir / "loadavg", "0.00 0.00 0.00 1/96 7294\n");
  running_monitors m;
  m.actors.push_back(monitors::spawn_load_monitor(*m.sys, s));
  REQUIRE(eventually([&] { return policy_is(s.bus_dir, 20, 50); }));
}

TEST_CASE("psi pressure above the high threshold selects the high-load setting") {
  test::temp_dir bus;
  auto s = settings_for(bus, monitors::load_source::psi);
  write_file(s.proc_dir / "pressure" / "cpu",
             "some avg10=92.50 avg60=80.00 avg300=40.00 total=123456\n"
             "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  running_monitors m;
  m.actors.push_back(monitors::spawn_load_monitor(*m.sys, s));
  REQUIRE(eventually([&] { return policy_is(s.bus_dir, 5, 200); }));
}

TEST_CASE("with no readable load source the monitor keeps beating and leaves the policy alone") {
  test::temp_dir bus;
  auto s = settings_for(bus, monitors::load_source::stat);
  running_monitors m;
  m.actors.push_back(monitors::spawn_load_monitor(*m.sys, s));
  std::optional<runtime::bus_control> ctl;
  REQUIRE(eventually([&] {
    auto c = runtime::bus_control::open(s.bus_dir);
    if (c) ctl.emplace(std::move(c.value()));
    return ctl.has_value() && ctl->heartbeat().beat_ns != 0;
  }));
  const auto first = ctl->heartbeat().beat_ns;
  REQUIRE(eventually([&] { return ctl->heartbeat().beat_ns > first; }));
  CHECK(ctl->load().updated_ns == 0);
  // Nothing published: every reader keeps its own configuration (here the {0, 0} it passes).
  CHECK(policy_is(s.bus_dir, 0, 0));
}

TEST_CASE("metrics.prom written by the monitors passes promtool check metrics") {
  test::temp_dir bus;
  auto s = settings_for(bus, monitors::load_source::loadavg);
  write_file(s.proc_dir / "loadavg", "0.70 0.50 0.20 1/96 7294\n");
  inbox::create_options opts;
  opts.capacity = 10;
  auto box = inbox::inbox::open_or_create(s.bus_dir, "w-1", opts);
  REQUIRE(box);
  REQUIRE(box->try_push({"t", "task", "x"}) == inbox::push_result::ok);
  running_monitors m;
  m.actors.push_back(monitors::spawn_load_monitor(*m.sys, s));
  m.actors.push_back(monitors::spawn_overflow_monitor(*m.sys, s));
  const auto prom = s.bus_dir / "metrics.prom";
  auto text = [&] {
    std::ifstream in(prom);
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  };
  REQUIRE(eventually([&] {
    const auto t = text();
    return t.find("sluice_load_per_cpu_ratio{bus=\"bus\"}") != std::string::npos &&
           t.find("sluice_inbox_messages{bus=\"bus\",agent=\"w-1\"} 1") != std::string::npos;
  }));
  const auto t = text();
  CHECK(t.find("sluice_build_info{version=\"") != std::string::npos);
  CHECK(t.find("sluice_batch_size{bus=\"bus\"}") != std::string::npos);
  CHECK(t.find("sluice_monitor_heartbeat_age_seconds{bus=\"bus\"}") != std::string::npos);
  CHECK(t.find("sluice_messages_enqueued_total{bus=\"bus\",agent=\"w-1\"} 1") != std::string::npos);
  CHECK(t.find("sluice_messages_dropped_total{bus=\"bus\",agent=\"w-1\"} 0") != std::string::npos);
  // The breaker as one series per state, the one in force 1.
  CHECK(t.find("sluice_circuit_breaker_state{bus=\"bus\",agent=\"w-1\",state=\"closed\"} 1") !=
        std::string::npos);
  CHECK(t.find("sluice_circuit_breaker_state{bus=\"bus\",agent=\"w-1\",state=\"open\"} 0") !=
        std::string::npos);
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    SLUICE_SKIP("promtool not installed (Debian package prometheus): format not validated");
  const auto cmd = "promtool check metrics < '" + prom.string() + "' >&2";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("a load setting expires when its monitor stops renewing it") {
  test::temp_dir bus;
  auto s = settings_for(bus, monitors::load_source::loadavg);
  write_file(s.proc_dir / "loadavg", "512.00 300.00 100.00 3/96 7294\n");
  {
    running_monitors m;
    m.actors.push_back(monitors::spawn_load_monitor(*m.sys, s));
    REQUIRE(eventually([&] { return policy_is(s.bus_dir, 5, 200); }));
  }
  // The monitor is gone: three intervals later readers get their own defaults ({0, 0} here),
  // not the high-load setting it left behind.
  REQUIRE(eventually([&] { return policy_is(s.bus_dir, 0, 0); }));
}
