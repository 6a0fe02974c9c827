// sluice doctor [--repair] [--json]: looks at every inbox of the bus after a crash (pending
// messages per lane, the consumer pid and lock, slots of dead producers, counters) and, with
// --repair, makes them usable again without losing a pending message (inbox/doctor.hpp); and
// whether the policy in force (policy.ctl) reads back intact, which only applying it again
// repairs. Exit 0 when every inbox and the policy are healthy (after repairs), 1 when not.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "governance/store.hpp"
#include "inbox/doctor/doctor.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/stdio.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/inbox_stats.hpp"

namespace sluice::cli {

namespace {

struct doctor_flags {
  bool repair = false;
  bool json = false;
};

nlohmann::ordered_json describe(const inbox::diagnosis& d) {
  nlohmann::ordered_json j;
  j["capacity"] = d.counters.capacity;
  j["critical_reserve"] = d.counters.critical_reserve;
  j["slot_size"] = d.counters.slot_size;
  j["file_size"] = d.file_size;
  j["pending"] = d.counters.size;
  auto& lanes = j["pending_by_lane"] = nlohmann::ordered_json::object();
  for (const std::size_t lane : inbox::delivery_order)
    lanes[inbox::lane_table[lane].name] = d.lanes[lane].pending;
  j["consumer"] = {{"recorded_pid", d.recorded_consumer_pid},
                   {"recorded_pid_alive", d.recorded_consumer_alive},
                   {"lock_held", d.consumer_lock_held}};
  auto& counters = j["counters"] = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < runtime::inbox_stat_count; ++i) {
    const auto& row = runtime::inbox_stat_table[i];
    if ((row.shown & runtime::in_doctor) != 0)
      counters[row.key] = runtime::json_value(row, d.counters);
  }
  j["leaked_admissions"] = d.leaked_admissions;
  auto& problems = j["problems"] = nlohmann::ordered_json::array();
  for (const auto& f : d.findings) {
    problems.push_back(
        {{"kind", inbox::to_string(f.kind)}, {"message", f.message}, {"repairable", f.repairable}});
  }
  return j;
}

// The policy in force, as every sender would read it: "none", "ok" with its version, or a
// problem (a damaged image makes senders admit every send unchecked).
nlohmann::ordered_json check_policy(const std::filesystem::path& dir) {
  auto s = governance::store::open(dir);
  if (!s) {
    if (s.err().code == inbox::errc::not_found) return {{"state", "none"}};
    return {{"state", "problem"}, {"message", s.err().message}};
  }
  auto p = s.value().current();
  if (!p)
    return {{"state", "problem"},
            {"message", p.err().message + "; senders admit every send until the policy is applied "
                                          "again (sluice policy apply FILE)"}};
  if (p.value() == nullptr) return {{"state", "none"}};
  return {{"state", "ok"}, {"version", s.value().generation()}};
}

std::string human(const std::string& agent, const nlohmann::ordered_json& e) {
  std::string out = agent + ": ";
  if (e.contains("error"))
    return out + "cannot be checked: " + e["error"].get<std::string>() + "\n";
  out += "capacity " + e["capacity"].dump() + ", slot " + e["slot_size"].dump() +
         " B, critical reserve " + e["critical_reserve"].dump() + "; pending " +
         e["pending"].dump() + " (";
  bool first = true;
  for (const auto& [lane, n] : e["pending_by_lane"].items()) {
    out += (first ? "" : ", ") + lane + " " + n.dump();
    first = false;
  }
  out += ")\n";
  const auto& c = e["consumer"];
  if (c["lock_held"].get<bool>()) {
    out += "  consumer: attached (pid " + c["recorded_pid"].dump() + ")\n";
  } else if (c["recorded_pid"].get<int>() != 0) {
    out += "  consumer: none; pid " + c["recorded_pid"].dump() + " is recorded and " +
           (c["recorded_pid_alive"].get<bool>() ? "alive without the lock" : "dead") + "\n";
  } else {
    out += "  consumer: none\n";
  }
  for (const auto& a : e.value("repairs", nlohmann::ordered_json::array()))
    out += "  repaired: " + a.get<std::string>() + "\n";
  for (const auto& p : e["problems"]) {
    out += "  problem (" + p["kind"].get<std::string>() + "): " + p["message"].get<std::string>() +
           "\n";
  }
  if (e["problems"].empty()) out += "  ok\n";
  return out;
}

int run_doctor(const global_options& globals, const doctor_flags& flags) {
  const auto dir = resolve_bus_dir(globals);
  nlohmann::ordered_json report;
  report["bus"] = dir.string();
  // Filled here and placed in the report at the end: ordered_json keeps its members in a
  // vector, so a reference into it dies when another member is added.
  auto inboxes = nlohmann::ordered_json::object();
  auto leftovers = nlohmann::ordered_json::array();
  nlohmann::ordered_json policy{{"state", "none"}};
  bool healthy = true;
  if (auto present = runtime::check_bus_dir(dir, sharing_of(globals)); !present) {
    if (present.err().code != inbox::errc::not_found) fail(present.err());
  } else {
    for (const auto& agent : runtime::list_agents(dir)) {
      nlohmann::ordered_json entry;
      try {
        // The ownership rule of every verb first: another user's inbox is reported, not touched.
        if (!open_existing(dir, agent, globals)) continue;  // removed while listing
        auto found = take(inbox::diagnose(dir, agent));
        const bool repairable = std::any_of(found.findings.begin(), found.findings.end(),
                                            [](const inbox::finding& f) { return f.repairable; });
        // Only an inbox without a live consumer needs (or allows) repair: a live one recovers by
        // itself.
        if (flags.repair && repairable) {
          auto fixed = take(inbox::repair(dir, agent));
          entry = describe(fixed.after);
          entry["repairs"] = fixed.actions;
        } else {
          entry = describe(found);
        }
      } catch (const cli_error& e) {
        entry = {{"error", e.message}};
      }
      healthy = healthy && !entry.contains("error") && entry["problems"].empty();
      inboxes[agent] = entry;
    }
    const auto files =
        flags.repair ? inbox::remove_leftover_temp_files(dir) : inbox::leftover_temp_files(dir);
    for (const auto& f : files) leftovers.push_back(f.filename().string());
    if (!flags.repair && !files.empty()) healthy = false;
    policy = check_policy(dir);
    healthy = healthy && policy["state"] != "problem";
  }
  report["inboxes"] = inboxes;
  report["leftover_files"] = leftovers;
  report["policy"] = policy;
  report["healthy"] = healthy;
  std::string text;
  if (flags.json) {
    text = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    text = "bus " + dir.string() + ": " + std::to_string(inboxes.size()) + " inbox" +
           (inboxes.size() == 1 ? "" : "es") + "\n";
    for (const auto& [agent, e] : inboxes.items()) text += human(agent, e);
    for (const auto& f : leftovers) {
      text += std::string(flags.repair ? "removed" : "leftover") +
              " temp file of a creator that died: " + f.get<std::string>() + "\n";
    }
    if (policy["state"] == "ok") text += "policy: version " + policy["version"].dump() + ", ok\n";
    if (policy["state"] == "problem")
      text += "policy: problem: " + policy["message"].get<std::string>() + "\n";
    text += healthy ? "healthy\n"
                    : (flags.repair ? "problems remain\n"
                                    : "problems found: run sluice doctor --repair\n");
  }
  if (!write_fully(text))
    throw cli_error{exit_code::io_error,
                    "cannot write to stdout: " + std::string(std::strerror(errno))};
  return healthy ? exit_code::ok : exit_code::failure;
}

}  // namespace

void add_doctor_verbs(CLI::App& app, cli_state& state) {
  auto flags = std::make_shared<doctor_flags>();
  auto* cmd = app.add_subcommand("doctor",
                                 "check every inbox of the bus after a crash (pending messages, "
                                 "dead consumers, slots of dead producers)");
  cmd->add_flag("--repair", flags->repair,
                "make the inboxes usable again; never drops a pending message");
  cmd->add_flag("--json", flags->json, "print one JSON object instead of text");
  cmd->callback([&state, flags] {
    state.action = [&state, flags] { return run_doctor(state.globals, *flags); };
  });
}

}  // namespace sluice::cli
