// `sluice loadtest`: synthetic senders into sink agents, with exact loss/order accounting
// and latency percentiles (docs/architecture.md section 8). Also the hidden `loadtest-sender` verb that
// each sender process runs. A long-running verb: it starts a CAF actor system (the sinks).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/loadtest/message.hpp"
#include "inbox/layout.hpp"
#include "actors/loadtest/run.hpp"
#include "actors/loadtest/sender.hpp"
#include "runtime/cli/actor_verbs.hpp"
#include "actors/loadtest/report.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/config.hpp"
#include "runtime/duration.hpp"
#include "runtime/stop_signals.hpp"

namespace sluice::cli {
namespace {

// SIGINT/SIGTERM are polled by the run (senders stop, sinks drain, the result stays exact).
void install_interrupt_handlers() {
  runtime::stop_on_signals();
  // A sender that died before the start line closes its pipe; writing to it must not kill us.
  signal(SIGPIPE, SIG_IGN);
}

template <class T>
T take(inbox::result<T>&& r) {
  if (!r) throw cli_error{runtime::exit_code_for(r.err().code), r.err().message};
  return std::move(r).value();
}

struct loadtest_flags {
  std::uint32_t senders = 4;
  std::uint32_t sinks = 1;
  bool threads = false;
  std::string messages;
  std::string duration;
  double rate = 0;
  std::string payload = "256";
  std::string priority_mix;
  std::string consumer_delay;
  bool json = false;
  std::string report_dir;
  bool keep = false;
};

// A flag value that is malformed or out of range: bad input, as everywhere.
[[noreturn]] void bad_value(const std::string& message) { throw cli_error{exit_code::bad_input, message}; }

std::uint64_t parse_count(const std::string& text) {
  // Accepts 1000000 and 1e6: counts this large are easier to type in exponent form.
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v >= 1) || v > 1e15 || std::floor(v) != v) {
    bad_value("--messages wants a whole number of messages >= 1 (e.g. 100000 or 1e6), not '" + text + "'");
  }
  return static_cast<std::uint64_t>(v);
}

std::uint32_t parse_u32(const std::string& text, const char* flag) {
  std::size_t used = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || text[0] == '-' || v > UINT32_MAX) {
    bad_value(std::string{flag} + " wants a non-negative integer, not '" + text + "'");
  }
  return static_cast<std::uint32_t>(v);
}

std::chrono::nanoseconds parse_time(const std::string& text, const char* flag) {
  auto d = runtime::parse_duration(text, flag);
  if (!d) bad_value(d.err().message);
  return *d;
}

std::vector<actors::priority_share> parse_mix(const std::string& text) {
  std::vector<actors::priority_share> mix;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    const auto colon = item.find(':');
    const auto prio = colon == std::string::npos ? std::nullopt : inbox::parse_priority(item.substr(0, colon));
    if (!prio) {
      bad_value("--priority-mix wants lane:weight pairs such as critical:1,normal:99 (lanes: critical, high, normal, "
            "low), not '" + text + "'");
    }
    mix.push_back({*prio, parse_u32(item.substr(colon + 1), "--priority-mix weight")});
    pos = comma + 1;
  }
  std::uint64_t sum = 0;
  for (const auto& m : mix) sum += m.weight;
  if (sum == 0) bad_value("--priority-mix weights must not all be 0");
  return mix;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string human_latency(std::uint64_t ns) {
  if (ns >= 1000000) return fmt::format("{:.1f} ms", static_cast<double>(ns) / 1e6);
  return fmt::format("{:.0f} µs", static_cast<double>(ns) / 1e3);
}

// One line per sample on a terminal (rewritten in place), one line a second otherwise.
class progress_printer {
 public:
  progress_printer() : tty_(isatty(STDERR_FILENO) == 1) {}

  void operator()(const actors::loadtest_progress& p) {
    if (!tty_ && p.elapsed_s < next_plain_s_) return;
    next_plain_s_ = std::floor(p.elapsed_s) + 1;
    // The rate since the previous line, so a plain line a second covers the whole second.
    const double dt = p.elapsed_s - last_elapsed_s_;
    const double msgs_per_s = dt > 0 ? static_cast<double>(p.received - last_received_) / dt : 0;
    last_elapsed_s_ = p.elapsed_s;
    last_received_ = p.received;
    const std::string line = fmt::format(
        "loadtest {:6.1f}s  sent {:>10}  received {:>10}  {:>9.0f} msgs/s  worst-sink p99 {:>8}  backpressure waits {}  "
        "breaker trips {}  senders running {}",
        p.elapsed_s, p.sent, p.received, msgs_per_s, human_latency(p.p99_ns), p.backpressure_waits,
        p.breaker_trips, p.senders_running);
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      dirty_ = true;
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }

  void finish() {
    if (dirty_) std::fputc('\n', stderr);
  }

 private:
  bool tty_;
  bool dirty_ = false;
  double next_plain_s_ = 0;
  double last_elapsed_s_ = 0;
  std::uint64_t last_received_ = 0;
};

void print_summary(const nlohmann::json& j) {
  std::printf("sent %s  received %s  lost %s  duplicated %s  reordered %s\n", j["sent"].dump().c_str(),
              j["received"].dump().c_str(), j["lost"].dump().c_str(), j["duplicated"].dump().c_str(),
              j["reordered"].dump().c_str());
  std::printf("throughput %s msgs/s over %s s\n", j["throughput_msgs_per_s"].dump().c_str(),
              j["duration_s"].dump().c_str());
  const auto& l = j["latency_us"];
  std::printf("latency (µs) p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", l["p50"].dump().c_str(),
              l["p90"].dump().c_str(), l["p99"].dump().c_str(), l["p999"].dump().c_str(), l["max"].dump().c_str());
  std::printf("backpressure waits %s  send failures %s  breaker trips %s\n", j["backpressure_waits"].dump().c_str(),
              j["send_failures"].dump().c_str(), j["breaker_trips"].dump().c_str());
}

// The run as a command line, for the report header (rebuilt from the parsed flags).
std::string command_line_of(const loadtest_flags& f) {
  std::string s = fmt::format("sluice loadtest --senders {} --sinks {}", f.senders, f.sinks);
  if (f.threads) s += " --threads";
  if (!f.messages.empty()) s += " --messages " + f.messages;
  if (!f.duration.empty()) s += " --duration " + f.duration;
  if (f.rate > 0) s += fmt::format(" --rate {:g}", f.rate);
  s += " --payload " + f.payload;
  if (!f.priority_mix.empty()) s += " --priority-mix " + f.priority_mix;
  if (!f.consumer_delay.empty()) s += " --consumer-delay " + f.consumer_delay;
  return s;
}

int run_loadtest_verb(const loadtest_flags& f, const global_options& globals) {
  if (f.senders == 0 || f.sinks == 0) bad_value("--senders and --sinks must be at least 1");
  actors::loadtest_config cfg;
  cfg.senders = f.senders;
  cfg.sinks = f.sinks;
  if (!f.duration.empty()) cfg.duration = parse_time(f.duration, "--duration");
  if (!f.messages.empty()) cfg.messages = parse_count(f.messages);
  if (f.messages.empty() && f.duration.empty()) cfg.messages = 100000;
  if (f.rate < 0) bad_value("--rate must be >= 0 (0 = as fast as possible)");
  cfg.rate = f.rate;
  const auto dash = f.payload.find('-');
  cfg.payload_min = parse_u32(f.payload.substr(0, dash), "--payload");
  cfg.payload_max = dash == std::string::npos ? cfg.payload_min : parse_u32(f.payload.substr(dash + 1), "--payload");
  if (cfg.payload_min < actors::loadtest_header_size || cfg.payload_max < cfg.payload_min) {
    bad_value(fmt::format("--payload wants BYTES or MIN-MAX with {} <= MIN <= MAX (each message carries a {} byte "
                      "header), not '{}'",
                      actors::loadtest_header_size, actors::loadtest_header_size, f.payload));
  }
  if (!f.priority_mix.empty()) cfg.mix = parse_mix(f.priority_mix);
  if (!f.consumer_delay.empty()) cfg.consumer_delay = parse_time(f.consumer_delay, "--consumer-delay");
  cfg.keep = f.keep;

  const auto where = take(runtime::resolve_bus({globals.dir, globals.bus}));
  cfg.bus_dir = where.dir;
  take(runtime::ensure_bus_dir(cfg.bus_dir));
  runtime::config conf{cfg.bus_dir};
  cfg.inbox_options = take(conf.new_inbox_options());
  // Checked here, before anything starts: a sink refusing the first message is too late.
  const std::uint32_t slot_payload = cfg.inbox_options.slot_size - inbox::layout::slot_header_size;
  if (cfg.payload_max > slot_payload) {
    bad_value(fmt::format("--payload {}: a sink inbox's slot holds at most {} bytes (slot size {}); "
                          "use a smaller --payload or raise SLUICE_SLOT_SIZE",
                          f.payload, slot_payload, cfg.inbox_options.slot_size));
  }
  if (!f.threads) {
    std::error_code ec;
    cfg.sender_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) throw cli_error{exit_code::os_error, "cannot find the sluice executable to start senders (" + ec.message() + "); use --threads"};
  }

  install_interrupt_handlers();
  const std::string started_at = utc_now();
  progress_printer printer;
  auto result = actors::run_loadtest(cfg, [&](const actors::loadtest_progress& p) { printer(p); }, runtime::stop_flag());
  printer.finish();
  const auto r = take(std::move(result));
  const auto j = loadtest_json(r);
  if (!f.report_dir.empty()) {
    const std::string setup = fmt::format(
        "{} senders ({}) -> {} sinks, payload {} B, rate {}, consumer delay {}", f.senders,
        f.threads ? "threads" : "processes", f.sinks, f.payload, f.rate > 0 ? fmt::format("{:g}/s per sender", f.rate) : "unlimited",
        f.consumer_delay.empty() ? "none" : f.consumer_delay);
    write_report(f.report_dir, r, {command_line_of(f), started_at, setup});
  }
  if (f.json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    print_summary(j);
  }
  std::fflush(stdout);
  const auto& t = r.totals;
  if (t.lost != 0 || t.reordered != 0 || t.duplicated != 0) {
    std::fprintf(stderr, "sluice: loadtest FAILED: %llu lost, %llu reordered, %llu duplicated\n",
                 static_cast<unsigned long long>(t.lost), static_cast<unsigned long long>(t.reordered),
                 static_cast<unsigned long long>(t.duplicated));
    return exit_code::failure;
  }
  return exit_code::ok;
}


// The body of one sender process: wait at the start line (one byte, or EOF, on stdin), send,
// print the report.
int run_sender_verb(const std::string& config_json) {
  actors::sender_config cfg;
  try {
    cfg = nlohmann::json::parse(config_json).get<actors::sender_config>();
  } catch (const nlohmann::json::exception& e) {
    throw cli_error{exit_code::usage, std::string{"loadtest-sender: bad configuration: "} + e.what()};
  }
  runtime::stop_on_signals();
  char go = 0;
  while (read(STDIN_FILENO, &go, 1) < 0 && errno == EINTR) {
  }
  const auto report = take(actors::run_sender(cfg, runtime::stop_flag()));
  std::printf("%s\n", nlohmann::json(report).dump().c_str());
  std::fflush(stdout);
  return std::ferror(stdout) ? exit_code::io_error : exit_code::ok;
}

}  // namespace

void add_loadtest_verbs(CLI::App& app, cli_state& state) {
  auto flags = std::make_shared<loadtest_flags>();
  auto* lt = app.add_subcommand("loadtest", actor_verb_description("loadtest"));
  lt->add_option("--senders", flags->senders, "number of senders (default 4)");
  lt->add_option("--sinks", flags->sinks, "number of sink agents (default 1)");
  lt->add_flag("--threads", flags->threads, "run senders as threads of this process instead of processes");
  lt->add_option("--messages", flags->messages, "total messages over all senders, e.g. 1e6 (default 100000)");
  lt->add_option("--duration", flags->duration, "send for this long, e.g. 30s (with --messages: whichever ends first)");
  lt->add_option("--rate", flags->rate, "messages per second per sender (default 0: as fast as possible)");
  lt->add_option("--payload", flags->payload, "payload bytes, or MIN-MAX for random sizes (default 256)");
  lt->add_option("--priority-mix", flags->priority_mix, "lane weights, e.g. critical:1,normal:99 (default all normal)");
  lt->add_option("--consumer-delay", flags->consumer_delay, "time each sink spends per message, e.g. 200us (forces backpressure)");
  lt->add_flag("--json", flags->json, "print the result as one JSON object");
  lt->add_option("--report", flags->report_dir, "write index.html (SVG charts) and result.json into this directory");
  lt->add_flag("--keep", flags->keep, "keep the sink inboxes afterwards");
  lt->callback([flags, &state] { state.action = [flags, &state] { return run_loadtest_verb(*flags, state.globals); }; });

  auto config = std::make_shared<std::string>();
  auto* sender = app.add_subcommand("loadtest-sender", "");
  sender->group("");  // hidden: started by `sluice loadtest`, not by people
  sender->add_option("config", *config, "sender configuration (JSON)")->required();
  sender->callback([config, &state] { state.action = [config] { return run_sender_verb(*config); }; });
}

}  // namespace sluice::cli
