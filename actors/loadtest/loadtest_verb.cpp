// `sluice loadtest`: synthetic senders into sink agents, with exact loss/order accounting
// and latency percentiles (docs/architecture.md section 8). Also the hidden `loadtest-sender` verb
// that each sender process runs. A long-running verb: it starts a CAF actor system (the sinks).
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "actors/loadtest/figures.hpp"
#include "actors/loadtest/machine.hpp"
#include "actors/loadtest/message.hpp"
#include "actors/loadtest/report/report.hpp"
#include "actors/loadtest/result_json.hpp"
#include "actors/loadtest/run.hpp"
#include "actors/loadtest/sender.hpp"
#include "actors/loadtest/thresholds.hpp"
#include "inbox/files/read_file.hpp"
#include "inbox/layout.hpp"
#include "runtime/bus_dir.hpp"
#include "runtime/cli/actor_verbs.hpp"
#include "runtime/cli/verb.hpp"
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
  std::uint32_t repeat = 1;
  std::string baseline;
  std::string fail_if;
};

// A flag value that is malformed or out of range: bad input, as everywhere.
[[noreturn]] void bad_value(const std::string& message) {
  throw cli_error{exit_code::bad_input, message};
}

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
    bad_value("--messages wants a whole number of messages >= 1 (e.g. 100000 or 1e6), not '" +
              text + "'");
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
    const auto prio =
        colon == std::string::npos ? std::nullopt : inbox::parse_priority(item.substr(0, colon));
    if (!prio) {
      bad_value(
          "--priority-mix wants lane:weight pairs such as critical:1,normal:99 (lanes: critical, "
          "high, normal, "
          "low), not '" +
          text + "'");
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

// One line per sample on a terminal (rewritten in place), one line a second otherwise.
class progress_printer {
 public:
  progress_printer() : tty_(isatty(STDERR_FILENO) == 1) {}

  // "run 2/3 " in front of every line when the test is repeated.
  void start_run(std::uint32_t run, std::uint32_t of) {
    prefix_ = of > 1 ? fmt::format("run {}/{} ", run, of) : std::string{};
    next_plain_s_ = 0;
    last_elapsed_s_ = 0;
    last_received_ = 0;
  }

  void operator()(const actors::loadtest_progress& p) {
    if (!tty_ && p.elapsed_s < next_plain_s_) return;
    next_plain_s_ = std::floor(p.elapsed_s) + 1;
    // The rate since the previous line, so a plain line a second covers the whole second.
    const double dt = p.elapsed_s - last_elapsed_s_;
    const double msgs_per_s = dt > 0 ? static_cast<double>(p.received - last_received_) / dt : 0;
    last_elapsed_s_ = p.elapsed_s;
    last_received_ = p.received;
    const std::string line = fmt::format(
        "loadtest {}{:6.1f}s  sent {:>10}  received {:>10}  {:>13}  worst-sink p99 {:>8}  "
        "backpressure waits {}  "
        "breaker trips {}  senders running {}",
        prefix_, p.elapsed_s, p.sent, p.received,
        actors::format_figure(actors::figure_unit::msgs_per_s, msgs_per_s),
        actors::format_latency_ns(static_cast<double>(p.p99_ns)), p.backpressure_waits,
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
  std::string prefix_;
  bool dirty_ = false;
  double next_plain_s_ = 0;
  double last_elapsed_s_ = 0;
  std::uint64_t last_received_ = 0;
};

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
  if (f.repeat > 1) s += fmt::format(" --repeat {}", f.repeat);
  if (!f.baseline.empty()) s += " --baseline " + f.baseline;
  if (!f.fail_if.empty()) s += " --fail-if '" + f.fail_if + "'";
  return s;
}

// The "config" object of result.json: everything that decides what was measured.
nlohmann::json config_json(const loadtest_flags& f, const actors::loadtest_config& cfg) {
  nlohmann::json mix = nlohmann::json::object();
  if (cfg.mix.empty()) mix["normal"] = 1;
  for (const auto& m : cfg.mix)
    mix[inbox::to_string(m.prio)] = mix.value(inbox::to_string(m.prio), 0U) + m.weight;
  const std::uint32_t senders =
      cfg.messages != 0
          ? static_cast<std::uint32_t>(std::min<std::uint64_t>(cfg.senders, cfg.messages))
          : cfg.senders;
  return {
      {"senders", cfg.senders},
      {"sinks", cfg.sinks},
      {"sender_mode", f.threads ? "threads" : "processes"},
      {"messages", cfg.messages},
      {"duration_s", std::chrono::duration<double>(cfg.duration).count()},
      {"rate_per_sender", cfg.rate},
      {"target_throughput_msgs_per_s", cfg.rate * senders},
      {"payload_min_bytes", cfg.payload_min},
      {"payload_max_bytes", cfg.payload_max},
      {"priority_mix", mix},
      {"consumer_delay_us", std::chrono::duration<double, std::micro>(cfg.consumer_delay).count()},
      {"inbox_capacity", cfg.inbox_options.capacity},
      {"inbox_critical_reserve", cfg.inbox_options.critical_reserve},
      {"inbox_slot_bytes", cfg.inbox_options.slot_size},
      {"repeat", f.repeat},
      {"sample_interval_ms", cfg.sample_interval.count()},
  };
}

// The baseline's document, read before the test runs so a wrong path fails at once.
nlohmann::json read_baseline(const std::string& path) {
  constexpr std::size_t max_result_bytes = 64u << 20;
  const auto file = inbox::read_file(path, max_result_bytes);
  if (file.error == ENOENT) {
    throw cli_error{
        exit_code::no_input,
        "--baseline: " + path + " does not exist; give the result.json of an earlier run"};
  }
  if (file.error != 0) {
    throw cli_error{exit_code::io_error,
                    "--baseline: cannot read " + path + ": " + std::strerror(file.error)};
  }
  auto doc = nlohmann::json::parse(file.text, nullptr, false);
  if (doc.is_discarded()) {
    throw cli_error{exit_code::bad_input,
                    "--baseline: " + path + " is not JSON; give the result.json of an earlier run"};
  }
  // The same checks the comparison makes, so a wrong file is refused before the test runs.
  take(actors::compare_with_baseline(doc, doc));
  return doc;
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
  cfg.payload_max = dash == std::string::npos ? cfg.payload_min
                                              : parse_u32(f.payload.substr(dash + 1), "--payload");
  if (cfg.payload_min < actors::loadtest_header_size || cfg.payload_max < cfg.payload_min) {
    bad_value(fmt::format(
        "--payload wants BYTES or MIN-MAX with {} <= MIN <= MAX (each message carries a {} byte "
        "header), not '{}'",
        actors::loadtest_header_size, actors::loadtest_header_size, f.payload));
  }
  if (!f.priority_mix.empty()) cfg.mix = parse_mix(f.priority_mix);
  if (!f.consumer_delay.empty())
    cfg.consumer_delay = parse_time(f.consumer_delay, "--consumer-delay");
  cfg.keep = f.keep;

  const auto where = take(runtime::resolve_bus({globals.dir, globals.bus}));
  cfg.bus_dir = where.dir;
  take(runtime::ensure_bus_dir(cfg.bus_dir));
  runtime::config conf{cfg.bus_dir};
  cfg.inbox_options = take(conf.new_inbox_options());
  // Checked here, before anything starts: a sink refusing the first message is too late.
  const std::uint32_t slot_payload = inbox::layout::max_payload_of(cfg.inbox_options.slot_size);
  if (cfg.payload_max > slot_payload) {
    bad_value(
        fmt::format("--payload {}: a sink inbox's slot holds at most {} bytes (slot size {}); "
                    "use a smaller --payload or raise SLUICE_SLOT_SIZE",
                    f.payload, slot_payload, cfg.inbox_options.slot_size));
  }
  if (!f.threads) {
    std::error_code ec;
    cfg.sender_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec)
      throw cli_error{exit_code::os_error, "cannot find the sluice executable to start senders (" +
                                               ec.message() + "); use --threads"};
  }

  if (f.repeat == 0) bad_value("--repeat wants a number of runs >= 1");
  std::vector<actors::threshold> limits;
  if (!f.fail_if.empty()) limits = take(actors::parse_thresholds(f.fail_if));
  nlohmann::json baseline;
  if (!f.baseline.empty()) baseline = read_baseline(f.baseline);
  if (!f.report_dir.empty()) {
    // Refuse a report directory that cannot be made before spending the run on it.
    std::error_code ec;
    std::filesystem::create_directories(f.report_dir, ec);
    if (ec)
      throw cli_error{exit_code::os_error,
                      "cannot create report directory " + f.report_dir + ": " + ec.message()};
  }

  install_interrupt_handlers();
  actors::run_context ctx;
  ctx.sluice_version = SLUICE_VERSION;
  ctx.started_at = utc_now();
  ctx.command_line = command_line_of(f);
  ctx.machine = actors::this_machine();
  ctx.config = config_json(f, cfg);
  progress_printer printer;
  actors::loadtest_result result;
  for (std::uint32_t i = 0; i < f.repeat; ++i) {
    printer.start_run(i + 1, f.repeat);
    auto run = actors::run_loadtest(
        cfg, [&](const actors::loadtest_progress& p) { printer(p); }, runtime::stop_flag());
    printer.finish();
    result.runs.push_back(take(std::move(run)));
    if (runtime::stop_requested()) break;  // an interrupted run is exact, but the rest are not run
  }

  auto doc = actors::result_document(result, ctx);
  std::vector<actors::figure_change> changes;
  if (!f.baseline.empty()) {
    changes = take(actors::compare_with_baseline(baseline, doc));
    doc["baseline"] = actors::baseline_json(f.baseline, baseline, changes);
  }
  const auto outcomes = actors::check_thresholds(limits, result);
  if (!limits.empty()) doc["thresholds"] = actors::thresholds_json(outcomes);
  if (!f.report_dir.empty()) actors::write_report(f.report_dir, result, doc);
  if (f.json) {
    std::printf("%s\n", doc.dump().c_str());
  } else {
    std::fputs(actors::summary_text(result).c_str(), stdout);
    if (!f.baseline.empty()) {
      std::printf("compared with %s (started %s):\n%s", f.baseline.c_str(),
                  doc["baseline"]["started_at"].get<std::string>().c_str(),
                  actors::baseline_table(changes).c_str());
    }
  }
  std::fflush(stdout);

  int code = exit_code::ok;
  std::uint64_t lost = 0;
  std::uint64_t reordered = 0;
  std::uint64_t duplicated = 0;
  for (const auto& run : result.runs) {
    lost += run.totals.lost;
    reordered += run.totals.reordered;
    duplicated += run.totals.duplicated;
  }
  if (lost != 0 || reordered != 0 || duplicated != 0) {
    std::fprintf(stderr, "sluice: loadtest FAILED: %llu lost, %llu reordered, %llu duplicated\n",
                 static_cast<unsigned long long>(lost), static_cast<unsigned long long>(reordered),
                 static_cast<unsigned long long>(duplicated));
    code = exit_code::failure;
  }
  std::string crossed;
  for (const auto& o : outcomes) {
    if (o.crossed)
      crossed += (crossed.empty() ? "" : "; ") + actors::describe_crossing(o.limit, o.measured);
  }
  if (!crossed.empty()) {
    std::fprintf(stderr, "sluice: loadtest FAILED --fail-if: %s\n", crossed.c_str());
    code = exit_code::failure;
  }
  return code;
}

// The body of one sender process: wait at the start line (one byte, or EOF, on stdin), send,
// print the report.
int run_sender_verb(const std::string& config_json) {
  actors::sender_config cfg;
  try {
    cfg = nlohmann::json::parse(config_json).get<actors::sender_config>();
  } catch (const nlohmann::json::exception& e) {
    throw cli_error{exit_code::usage,
                    std::string{"loadtest-sender: bad configuration: "} + e.what()};
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

void add_feature_verbs(CLI::App& app, cli_state& state) {
  auto flags = std::make_shared<loadtest_flags>();
  auto* lt = app.add_subcommand("loadtest", actor_verb_description("loadtest"));
  lt->add_option("--senders", flags->senders, "number of senders (default 4)");
  lt->add_option("--sinks", flags->sinks, "number of sink agents (default 1)");
  lt->add_flag("--threads", flags->threads,
               "run senders as threads of this process instead of processes");
  lt->add_option("--messages", flags->messages,
                 "total messages over all senders, e.g. 1e6 (default 100000)");
  lt->add_option("--duration", flags->duration,
                 "send for this long, e.g. 30s (with --messages: whichever ends first)");
  lt->add_option("--rate", flags->rate,
                 "messages per second per sender (default 0: as fast as possible)");
  lt->add_option("--payload", flags->payload,
                 "payload bytes, or MIN-MAX for random sizes (default 256)");
  lt->add_option("--priority-mix", flags->priority_mix,
                 "lane weights, e.g. critical:1,normal:99 (default all normal)");
  lt->add_option("--consumer-delay", flags->consumer_delay,
                 "time each sink spends per message, e.g. 200us (forces backpressure)");
  lt->add_flag("--json", flags->json, "print the result as one JSON object");
  lt->add_option("--report", flags->report_dir,
                 "write index.html (SVG charts), result.json, latency.hgrm and service-time.hgrm "
                 "into this directory");
  lt->add_flag("--keep", flags->keep, "keep the sink inboxes afterwards");
  lt->add_option(
      "--repeat", flags->repeat,
      "run the test N times; every figure is then reported as mean and spread (default 1)");
  lt->add_option("--baseline", flags->baseline,
                 "an earlier result.json: print the change of every figure against it");
  lt->add_option("--fail-if", flags->fail_if,
                 "exit 1 when a threshold is crossed, e.g. 'p99>5ms,lost>0,throughput<100k' (the "
                 "mean with --repeat)");
  lt->callback([flags, &state] {
    state.action = [flags, &state] { return run_loadtest_verb(*flags, state.globals); };
  });

  auto config = std::make_shared<std::string>();
  auto* sender = app.add_subcommand("loadtest-sender", "");
  sender->group("");  // hidden: started by `sluice loadtest`, not by people
  sender->add_option("config", *config, "sender configuration (JSON)")->required();
  sender->callback(
      [config, &state] { state.action = [config] { return run_sender_verb(*config); }; });
}

}  // namespace sluice::cli
