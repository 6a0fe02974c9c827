#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>
#include <set>

#include "inbox/inbox.hpp"
#include "monitor_test_support.hpp"
#include "monitors/monitor_actors.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using test::eventually;

namespace {

constexpr std::uint32_t capacity = 20;

void fill_to(inbox::inbox& box, std::uint64_t size) {
  while (box.size() < size) REQUIRE(box.try_push({"test", "task", "x"}) == inbox::push_result::ok);
}

std::vector<nlohmann::json> alert_lines(const test::temp_dir& bus) {
  return test::read_jsonl(bus.path() / "alerts.jsonl");
}

bool has_alert(const test::temp_dir& bus, const char* severity, const char* state) {
  for (const auto& a : alert_lines(bus))
    if (a["severity"] == severity && a["state"] == state) return true;
  return false;
}

// Waits until the monitor has completed `ticks` more ticks (one inbox.size line each).
void await_ticks(const test::temp_dir& bus, std::size_t ticks) {
  const auto before = test::count_metric(bus.path() / "metrics.jsonl", "inbox.size");
  REQUIRE(eventually([&] {
    return test::count_metric(bus.path() / "metrics.jsonl", "inbox.size") >= before + ticks;
  }));
}

struct running_monitor {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor monitor;

  explicit running_monitor(const monitors::monitor_settings& s) {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    monitor = monitors::spawn_overflow_monitor(*sys, s);
  }
  ~running_monitor() { caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown); }
};

}  // namespace

TEST_CASE(
    "the overflow monitor fires the warning, then the overflow alert, and resolves each under "
    "its own type, each line once") {
  test::temp_dir bus;
  inbox::create_options opts;
  opts.capacity = capacity;
  auto box = inbox::inbox::open_or_create(bus.path(), "w1", opts);
  REQUIRE(box);
  monitors::monitor_settings s;
  s.bus_dir = bus.path();
  s.interval = 100ms;
  running_monitor m{s};

  fill_to(*box, capacity * 85 / 100);
  REQUIRE(eventually([&] { return has_alert(bus, "warning", "firing"); }));
  {
    const auto lines = alert_lines(bus);
    REQUIRE(lines.size() == 1);
    const auto& a = lines[0];
    CHECK(a["type"] == "inbox_high_utilization");
    CHECK(a["metadata"]["agent"] == "w1");
    CHECK(a["metadata"]["size"] == 17);
    CHECK(a["metadata"]["max_size"] == capacity);
    CHECK(a["metadata"]["utilization"] == 85.0);
    CHECK(a["metadata"].contains("fill_rate_msgs_per_s"));
    CHECK(a["metadata"].contains("seconds_to_full"));
    CHECK(a["timestamp"].is_string());
  }
  await_ticks(bus, 3);
  CHECK(alert_lines(bus).size() == 1);

  fill_to(*box, capacity);
  REQUIRE(eventually([&] { return has_alert(bus, "critical", "firing"); }));
  await_ticks(bus, 3);
  {
    const auto lines = alert_lines(bus);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1]["type"] == "inbox_overflow");
    CHECK(lines[1]["severity"] == "critical");
    CHECK(lines[1]["state"] == "firing");
  }

  auto consumer = box->attach_consumer();
  REQUIRE(consumer);
  while (!consumer->pop_batch(100).empty()) consumer->commit();
  REQUIRE(eventually([&] {
    return has_alert(bus, "critical", "resolved") && has_alert(bus, "warning", "resolved");
  }));
  await_ticks(bus, 3);
  const auto lines = alert_lines(bus);
  REQUIRE(lines.size() == 4);
  for (std::size_t i = 2; i < 4; ++i) {
    CHECK(lines[i]["state"] == "resolved");
    CHECK(lines[i]["metadata"]["size"] == 0);
  }
  // Every type that fired has its resolved line.
  std::set<std::string> resolved;
  for (std::size_t i = 2; i < 4; ++i) resolved.insert(lines[i]["type"].get<std::string>());
  CHECK(resolved == std::set<std::string>{"inbox_high_utilization", "inbox_overflow"});
}

TEST_CASE("the overflow monitor writes inbox.size and inbox.utilization per inbox each tick") {
  test::temp_dir bus;
  inbox::create_options opts;
  opts.capacity = capacity;
  auto a = inbox::inbox::open_or_create(bus.path(), "a", opts);
  auto b = inbox::inbox::open_or_create(bus.path(), "b", opts);
  REQUIRE(a);
  REQUIRE(b);
  fill_to(*a, 5);
  monitors::monitor_settings s;
  s.bus_dir = bus.path();
  s.interval = 100ms;
  running_monitor m{s};
  await_ticks(bus, 2);
  bool saw_a_size = false, saw_a_util = false, saw_b_size = false;
  for (const auto& j : test::read_jsonl(bus.path() / "metrics.jsonl")) {
    const auto agent = j["tags"].value("agent", "");
    if (j["metric"] == "inbox.size" && agent == "a" && j["value"] == 5) saw_a_size = true;
    if (j["metric"] == "inbox.utilization" && agent == "a" && j["value"] == 25) saw_a_util = true;
    if (j["metric"] == "inbox.size" && agent == "b" && j["value"] == 0) saw_b_size = true;
    CHECK(j["unit"] == (j["metric"] == "inbox.size" ? "count" : "percent"));
  }
  CHECK(saw_a_size);
  CHECK(saw_a_util);
  CHECK(saw_b_size);
}

TEST_CASE("the overflow monitor keeps running when the bus directory does not exist yet") {
  test::temp_dir bus;
  monitors::monitor_settings s;
  s.bus_dir = bus.path() / "later";
  s.interval = 100ms;
  s.metrics_file = bus.path() / "metrics.jsonl";
  s.alert_file = bus.path() / "alerts.jsonl";
  running_monitor m{s};
  std::filesystem::create_directory(s.bus_dir);
  inbox::create_options opts;
  opts.capacity = capacity;
  auto box = inbox::inbox::open_or_create(s.bus_dir, "late", opts);
  REQUIRE(box);
  fill_to(*box, capacity);
  CHECK(eventually([&] { return has_alert(bus, "critical", "firing"); }));
}
