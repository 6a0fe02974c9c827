// `sluice-bench inbox [--json]`: the sluice inbox against boost::interprocess::message_queue,
// POSIX mq, a Unix domain socketpair, a file-per-message directory and a raw Vyukov ring, in
// one run, with producers 1 and 4 and payloads 64 B and 1 KiB. Prints a table with ratios,
// or one JSON object with --json.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "actors/loadtest/machine.hpp"
#include "bench/bench.hpp"
#include "bench/machine_jitter.hpp"

namespace sluice::bench {
namespace {

std::vector<std::unique_ptr<transport>> all_transports() {
  std::vector<std::unique_ptr<transport>> t;
  t.push_back(make_sluice_transport(true));
  t.push_back(make_sluice_transport(false));
  t.push_back(make_raw_ring_transport());
  t.push_back(make_boost_mq_transport());
  t.push_back(make_posix_mq_transport());
  t.push_back(make_uds_transport());
  t.push_back(make_file_dir_transport());
  return t;
}

std::string fmt_num(double v, const char* f = "%.1f") {
  if (v < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void print_table(const std::vector<case_result>& results, const machine_jitter& jitter,
                 const run_options& opts) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::map<std::string, double>> tp;
  for (const auto& r : results) tp[{r.producers, r.payload}][r.transport] = r.msgs_per_s;
  std::printf("machine: %s, %u hardware threads\n", actors::this_machine().cpu.c_str(),
              std::thread::hardware_concurrency());
  std::printf(
      "jitter: one spinning thread lost its CPU for > 5 us %.0f times/s (%.1f %% of 50 us "
      "windows), longest %.0f us\n\n",
      jitter.gaps_over_5us_per_s, jitter.windows_hit_pct, jitter.max_gap_us);
  std::printf("%-14s %4s %6s %12s %8s %8s %9s %9s %10s %10s\n", "transport", "prod", "bytes",
              "msgs/s", "x boost", "x raw", "p50 spin", "p99 spin", "p50 sleep", "p99 sleep");
  for (const auto& r : results) {
    const auto& row = tp[{r.producers, r.payload}];
    const double boost = row.count("boost_mq") ? row.at("boost_mq") : 0;
    const double raw = row.count("raw_ring") ? row.at("raw_ring") : 0;
    std::printf("%-14s %4u %6u %12.0f %8s %8s %8sus %8sus %9sus %9sus\n", r.transport.c_str(),
                r.producers, r.payload, r.msgs_per_s,
                boost > 0 ? fmt_num(r.msgs_per_s / boost, "%.2f").c_str() : "-",
                raw > 0 ? fmt_num(r.msgs_per_s / raw, "%.2f").c_str() : "-",
                fmt_num(r.p50_us).c_str(), fmt_num(r.p99_us).c_str(),
                fmt_num(r.p50_sleep_us).c_str(), fmt_num(r.p99_sleep_us).c_str());
  }
  std::printf(
      "\nmsgs/s: median of the runs, consumer spinning; sluice uses try_push_batch (32) and "
      "pop_batch,\n"
      "sluice_single one try_push per message. Latency: one-way, one message per producer every 50 "
      "us,\n"
      "after %u unmeasured warm-up messages per producer.%s\n"
      "jitter: one thread spinning for 2 s before the runs, for context only. What sets the p99\n"
      "is whether the scheduler preempts the spinning consumer (SLUICE_BENCH_VERBOSE=1 prints\n"
      "how often per run): with four producers on two cores it often does, and every transport's\n"
      "p99 is then tens of microseconds.\n",
      opts.latency_warmup,
      opts.pin_consumer
          ? "\npinned (--pin): the consumer alone on CPU 0, the producers on the others."
          : "");
}

void print_json(const std::vector<case_result>& results, const machine_jitter& jitter,
                const run_options& opts) {
  nlohmann::json out;
  out["machine"] = {{"cpu", actors::this_machine().cpu},
                    {"hardware_threads", std::thread::hardware_concurrency()},
                    {"spin_gaps_over_5us_per_s", jitter.gaps_over_5us_per_s},
                    {"windows_hit_pct", jitter.windows_hit_pct},
                    {"max_gap_us", jitter.max_gap_us},
                    {"lost_pct", jitter.lost_pct}};
  out["latency_warmup_per_producer"] = opts.latency_warmup;
  out["pinned"] = opts.pin_consumer;
  out["results"] = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json j{{"transport", r.transport}, {"producers", r.producers},
                     {"payload", r.payload},     {"msgs_per_s", r.msgs_per_s},
                     {"p50_us", r.p50_us},       {"p99_us", r.p99_us}};
    j["p50_sleep_us"] =
        r.p50_sleep_us < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.p50_sleep_us);
    j["p99_sleep_us"] =
        r.p99_sleep_us < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.p99_sleep_us);
    out["results"].push_back(j);
  }
  std::cout << out.dump(2) << "\n";
}

int run_inbox(int argc, char** argv) {
  CLI::App app{"Inbox throughput and latency against the alternatives", "sluice-bench inbox"};
  bool json = false;
  run_options opts;
  std::vector<std::string> only;
  app.add_flag("--json", json, "print one JSON object instead of the table");
  app.add_option("--runs", opts.runs, "runs per case; the median is reported")
      ->check(CLI::Range(1, 99));
  app.add_option("--samples", opts.latency_samples, "latency samples per producer per run")
      ->check(CLI::Range(10, 100000));
  app.add_option("--warmup", opts.latency_warmup,
                 "unmeasured messages per producer before the latency samples (one ring lap: "
                 "a fresh process's first pass takes page faults, which is start-up, not "
                 "hand-over)")
      ->check(CLI::Range(0, 100000));
  app.add_flag("--pin", opts.pin_consumer,
               "run the consumer alone on CPU 0 and the producers on the other CPUs (the "
               "scheduler then never preempts the spinning consumer for a producer)");
  app.add_option("--only", only, "transports to run (default: all)");
  CLI11_PARSE(app, argc, argv);
  std::fprintf(stderr, "machine jitter: spinning for 2 s...\n");
  // One spinner, as in the latency runs (a spinning consumer, producers asleep between sends).
  const machine_jitter jitter = measure_machine_jitter(std::chrono::seconds(2), 1);
  std::vector<case_result> results;
  for (const std::uint32_t producers : {1u, 4u}) {
    for (const std::uint32_t payload : {64u, 1024u}) {
      for (auto& t : all_transports()) {
        if (!only.empty() && std::find(only.begin(), only.end(), t->name()) == only.end()) continue;
        std::fprintf(stderr, "%s: %u producer(s), %u B...\n", t->name().c_str(), producers,
                     payload);
        endpoint_config cfg;
        cfg.producers = producers;
        cfg.payload = payload;
        results.push_back(measure(*t, cfg, opts));
      }
    }
  }
  if (json) {
    print_json(results, jitter, opts);
  } else {
    print_table(results, jitter, opts);
  }
  return 0;
}

const verb_registration reg{"inbox", "inbox vs boost mq, POSIX mq, UDS, file-per-message, raw ring",
                            run_inbox};

}  // namespace
}  // namespace sluice::bench
