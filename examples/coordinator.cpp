// The swarm's coordinator (a job): fans tasks out to every other agent on the bus, collects
// the results, checks that every task came back exactly once (a redelivered duplicate is
// counted, a missing task is an error), prints a summary and exits 0 when nothing was lost.
//
//   coordinator [--tasks N] [--inflight N] [--timeout SECONDS]      (SWARM_TASKS overrides N)
//
// It never blocks on a full worker: sends are no-wait, a full inbox (backpressure) moves
// the task to the next worker, and at most --inflight tasks are outstanding per worker, so
// the coordinator keeps draining its own inbox while the workers push back on it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "actors/agent/agent.hpp"
#include "inbox/inbox.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/config.hpp"

namespace {

using namespace sluice;
using clock_type = std::chrono::steady_clock;

struct swarm {
  std::uint64_t tasks = 20000;
  std::uint32_t inflight_cap = 64;
  std::chrono::seconds timeout{120};
  std::vector<std::string> workers;
  std::vector<std::uint32_t> inflight;
  std::vector<std::uint64_t> answered;
  std::vector<std::uint8_t> seen;  // per task: how often it came back (saturating)
  std::uint64_t next = 0;
  std::uint64_t done = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t unknown = 0;
  std::uint64_t full = 0;  // sends that found a worker's inbox full and moved on
  std::size_t turn = 0;
  bool workers_ready = false;
  clock_type::time_point start;

  std::size_t index_of(std::string_view name) const {
    for (std::size_t i = 0; i < workers.size(); ++i)
      if (workers[i] == name) return i;
    return workers.size();
  }

  // True once every worker's inbox has a consumer. Fanning out earlier would hand a late
  // starter only what is left, so the share of work each worker gets would depend on
  // process start-up order rather than on its speed.
  bool all_workers_attached(actors::agent& self) {
    if (workers_ready) return true;
    for (const auto& name : workers) {
      auto box = inbox::inbox::open(self.bus_dir(), name);
      if (!box || box->snapshot().consumer_pid == 0) return false;
    }
    workers_ready = true;
    start = clock_type::now();  // the throughput counts from the fan-out, not the wait
    return true;
  }

  // Hands out tasks round-robin to workers below their in-flight cap.
  void dispatch(actors::agent& self) {
    for (int budget = 512; budget > 0 && next < tasks;) {
      bool progressed = false;
      for (std::size_t k = 0; k < workers.size() && next < tasks && budget > 0; ++k) {
        const std::size_t w = (turn + k) % workers.size();
        if (inflight[w] >= inflight_cap) continue;
        const auto status = self.send(workers[w], "task", std::to_string(next));
        if (status != backpressure::send_status::sent) {
          ++full;
          continue;
        }
        ++inflight[w];
        ++next;
        --budget;
        progressed = true;
      }
      ++turn;
      if (!progressed) return;
    }
  }

  void on_result(actors::agent& self, const inbox::received_message& m) {
    const std::size_t w = index_of(m.from);
    if (w < workers.size()) {
      if (inflight[w] > 0) --inflight[w];
      ++answered[w];
    }
    const auto id = std::strtoull(std::string(m.payload).c_str(), nullptr, 10);
    if (id >= tasks) {
      ++unknown;
      return;
    }
    if (seen[id] == 0)
      ++done;
    else
      ++duplicates;
    if (seen[id] < 255) ++seen[id];
    if (done == tasks) finish(self, true);
  }

  void finish(actors::agent& self, bool complete);
};

std::uint64_t firing_alerts(const std::filesystem::path& dir) {
  runtime::config cfg(dir);
  auto file = cfg.alert_log_file();
  if (!file) return 0;
  std::ifstream in(file.value());
  std::uint64_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find("\"state\":\"firing\"") != std::string::npos) ++n;
  return n;
}

void swarm::finish(actors::agent& self, bool complete) {
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::uint64_t waits = 0;
  std::uint64_t rejected = 0;
  for (const auto& name : runtime::list_agents(self.bus_dir())) {
    if (auto box = inbox::inbox::open(self.bus_dir(), name)) {
      const auto st = box->snapshot();
      waits += st.backpressure_waits;
      rejected += st.rejected_full;
    }
  }
  std::uint64_t missing = 0;
  for (std::uint64_t i = 0; i < tasks; ++i) missing += seen[i] == 0;
  std::printf("tasks:        %llu to %zu workers in %.2f s = %.0f tasks/s (%.0f messages/s)\n",
              static_cast<unsigned long long>(tasks), workers.size(), secs, done / secs,
              2 * done / secs);
  std::printf("per worker:  ");
  for (std::size_t w = 0; w < workers.size(); ++w)
    std::printf(" %s=%llu", workers[w].c_str(), static_cast<unsigned long long>(answered[w]));
  std::printf(
      "\nbackpressure: %llu pushes refused by full inboxes, %llu sender waits "
      "(coordinator moved on %llu times)\n",
      static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(waits),
      static_cast<unsigned long long>(full));
  std::printf("alerts:       %llu firing (alerts.jsonl)\n",
              static_cast<unsigned long long>(firing_alerts(self.bus_dir())));
  const bool ok = complete && missing == 0 && unknown == 0;
  std::printf(
      "exactly-once: %s: %llu of %llu tasks came back, %llu missing, %llu redelivered "
      "duplicates, %llu unknown\n",
      ok ? "OK" : "FAILED", static_cast<unsigned long long>(done),
      static_cast<unsigned long long>(tasks), static_cast<unsigned long long>(missing),
      static_cast<unsigned long long>(duplicates), static_cast<unsigned long long>(unknown));
  std::fflush(stdout);
  self.stop(ok ? 0 : 1);
}

}  // namespace

int main(int argc, char** argv) {
  swarm s;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--tasks") == 0)
      s.tasks = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--inflight") == 0)
      s.inflight_cap = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--timeout") == 0)
      s.timeout = std::chrono::seconds(std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: coordinator [--tasks N] [--inflight N] [--timeout SECONDS]\n");
      return 64;
    }
  }
  if (const char* env = std::getenv("SWARM_TASKS")) s.tasks = std::strtoull(env, nullptr, 10);
  if (s.tasks == 0 || s.inflight_cap == 0) {
    std::fprintf(stderr, "coordinator: --tasks and --inflight must be positive\n");
    return 64;
  }
  s.seen.assign(s.tasks, 0);

  actors::agent_handlers h;
  h.on_start = [&](actors::agent& self) {
    for (auto& name : runtime::list_agents(self.bus_dir()))
      if (name != self.name()) s.workers.push_back(name);
    if (s.workers.empty()) {
      std::fprintf(stderr, "coordinator: no worker inboxes on the bus\n");
      self.stop(64);
      return;
    }
    s.inflight.assign(s.workers.size(), 0);
    s.answered.assign(s.workers.size(), 0);
    std::printf("fanning %llu tasks out to %zu workers once each has attached\n",
                static_cast<unsigned long long>(s.tasks), s.workers.size());
    std::fflush(stdout);
    s.start = clock_type::now();
  };
  h.on_message = [&](actors::agent& self, const inbox::received_message& m) {
    if (m.type == "result" && !self.stopping()) s.on_result(self, m);
  };
  h.on_idle = [&](actors::agent& self) {
    if (self.stopping()) return;
    if (s.all_workers_attached(self)) s.dispatch(self);
    if (clock_type::now() - s.start > s.timeout) {
      std::printf("timed out after %lld s\n", static_cast<long long>(s.timeout.count()));
      s.finish(self, false);
    }
  };
  actors::agent_options opts;
  opts.send.wait = false;  // a full worker is skipped, never waited for
  // A task that could not be sent is handed to the next worker, not lost; whether every task
  // came back is what this job's exit code says.
  opts.lost_message_fails_exit = false;
  return actors::run_agent(std::move(h), std::move(opts));
}
