// Consuming verbs: recv (alias receive), peek, clear. recv commits a batch only after its JSON
// reached stdout, so a reader that went away costs nothing: the messages stay in the inbox.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/message_json.hpp"
#include "runtime/bus_control.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/stdio.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/config.hpp"
#include "runtime/count.hpp"
#include "runtime/duration.hpp"
#include "runtime/plural.hpp"
#include "runtime/stop_signals.hpp"

namespace sluice::cli {

namespace {

using clock = std::chrono::steady_clock;

// How a batch is printed: a JSON array, JSON lines, or the payloads alone.
struct output_form {
  bool jsonl = false;
  bool raw0 = false;       // --raw: each payload followed by a NUL byte
  bool netstring = false;  // --netstring: <length>:<bytes>, per payload

  // The flags that choose it; at most one may be given.
  void add_flags(CLI::App& cmd) {
    auto* j = cmd.add_flag("--jsonl", jsonl, "one JSON object per line instead of an array");
    auto* r = cmd.add_flag("--raw", raw0,
                           "print only the payloads, each followed by a NUL byte (for xargs -0); "
                           "refused for a payload that contains a NUL byte");
    auto* n = cmd.add_flag("--netstring", netstring,
                           "print only the payloads, as netstrings <length>:<bytes>, (any bytes)");
    j->excludes(r)->excludes(n);
    r->excludes(n);
  }

  // The text for a batch; nullopt when --raw cannot hold one of its payloads.
  std::optional<std::string> render(const std::vector<message_fields>& batch, bool lines) const {
    if (raw0) return render_raw0(batch);
    if (netstring) return render_netstrings(batch);
    return render_batch(batch, jsonl || lines);
  }
};

struct recv_args {
  std::string agent;
  output_form form;
  std::string max;    // a count; empty: everything pending
  std::string batch;  // "auto" or a count; empty: not given
  std::string wait;   // duration; empty: do not wait
  bool follow = false;
};

// Every message an inbox can hold at once: no batch is larger, whatever was asked for.
std::size_t holds_at_most(const inbox::inbox& box) {
  const auto s = box.snapshot();
  return static_cast<std::size_t>(s.capacity) + s.critical_reserve;
}

// A positive count from a flag, or a usage error naming it. Any size is accepted: what is
// asked for is an upper bound (batch_limit caps it).
std::size_t count_flag(const std::string& text, const char* flag) {
  auto n = runtime::parse_count(text, flag, 1, SIZE_MAX);
  if (!n) throw cli_error{exit_code::bad_input, n.err().message};
  return static_cast<std::size_t>(*n);
}

// The batch the flags ask for, checked before anything is opened: --max N, --batch N, or
// nullopt (--batch auto, or everything pending).
std::optional<std::size_t> asked_batch(const recv_args& args) {
  if (!args.max.empty()) return count_flag(args.max, "--max");
  if (!args.batch.empty() && args.batch != "auto")
    return count_flag(args.batch, "--batch (or 'auto')");
  return std::nullopt;
}

// The batch is allocated up front, so it is bounded by what the inbox can hold: --max 1e8
// means "everything, up to 1e8", not 1e8 empty slots.
std::size_t batch_limit(std::optional<std::size_t> asked, const recv_args& args,
                        const std::filesystem::path& dir, runtime::config& config,
                        const inbox::inbox& box) {
  std::size_t n = holds_at_most(box);
  if (asked) {
    n = std::min(n, *asked);
  } else if (args.batch == "auto") {
    n = std::min<std::size_t>(
        n, take(runtime::read_policy(dir, take(runtime::configured_policy(config)))).batch_size);
  }
  return n;
}

std::chrono::nanoseconds wait_budget(const recv_args& args) {
  if (args.wait.empty()) return std::chrono::nanoseconds::zero();
  return take(runtime::parse_duration(args.wait, "--wait"));
}

std::vector<message_fields> fields(const std::vector<inbox::received_message>& batch,
                                   std::string_view to) {
  std::vector<message_fields> out;
  out.reserve(batch.size());
  for (const auto& m : batch) out.push_back(fields_of(m, to));
  return out;
}

// Writes the batch and commits it; false when stdout failed (nothing committed).
[[noreturn]] void nul_in_raw_payload(std::size_t n) {
  throw cli_error{exit_code::bad_input,
                  "a payload contains a NUL byte, which --raw cannot delimit: the " +
                      runtime::plural(n, "message") +
                      " read were not consumed; use --netstring or JSON instead"};
}

[[nodiscard]] bool deliver(inbox::consumer& consumer,
                           const std::vector<inbox::received_message>& batch,
                           std::string_view agent, const output_form& form, bool lines) {
  const auto text = form.render(fields(batch, agent), lines);
  if (!text) nul_in_raw_payload(batch.size());
  if (!write_fully(*text)) return false;
  consumer.commit();
  return true;
}

[[noreturn]] void stdout_failed(std::size_t n) {
  throw cli_error{exit_code::io_error, "cannot write to stdout (" +
                                           std::string(std::strerror(errno)) + "): the " +
                                           runtime::plural(n, "message") +
                                           " read were not consumed and stay in the inbox"};
}

int run_follow(inbox::inbox& box, inbox::consumer& consumer, const recv_args& args,
               std::size_t limit) {
  // SIGINT/SIGTERM end --follow between batches, never inside one: the batch being written
  // is either committed or left in the inbox.
  runtime::stop_on_signals();
  runtime::log_timestamps(true);
  // The doorbell wait is sliced so a stop signal is seen within this time even if the
  // futex wait is restarted rather than interrupted.
  constexpr auto slice = std::chrono::milliseconds(100);
  while (!runtime::stop_requested()) {
    auto batch = consumer.pop_batch(limit);
    if (batch.empty()) {
      if (box.wait_not_empty(slice) == inbox::wake_reason::broken) fail_broken(box);
      continue;
    }
    if (!deliver(consumer, batch, args.agent, args.form, true)) stdout_failed(batch.size());
  }
  return exit_code::ok;
}

int run_recv(const global_options& globals, const recv_args& args) {
  require_agent_name(args.agent, "recv");
  const auto budget = wait_budget(args);
  const auto asked = asked_batch(args);
  const auto dir = resolve_bus_dir(globals);
  runtime::config config(dir);
  require_writable_stdout();
  auto box = open_or_create(dir, args.agent, config, globals);
  const std::size_t limit = batch_limit(asked, args, dir, config, box);
  auto consumer = take(box.attach_consumer());
  if (args.follow) return run_follow(box, consumer, args, limit);

  auto batch = consumer.pop_batch(limit);
  const auto deadline = clock::now() + budget;
  while (batch.empty() && clock::now() < deadline) {
    if (box.wait_not_empty(deadline - clock::now()) == inbox::wake_reason::broken) break;
    batch = consumer.pop_batch(limit);
  }
  if (box.broken()) fail_broken(box);
  if (!deliver(consumer, batch, args.agent, args.form, false)) stdout_failed(batch.size());
  return exit_code::ok;
}

struct peek_args {
  std::string agent;
  output_form form;
  std::string max;  // a count; empty: everything pending
};

int run_peek(const global_options& globals, const peek_args& args) {
  require_agent_name(args.agent, "peek");
  const std::size_t asked = args.max.empty() ? SIZE_MAX : count_flag(args.max, "--max");
  const auto dir = resolve_bus_dir(globals);
  auto box = open_existing(dir, args.agent, globals);
  std::vector<inbox::message> pending;
  if (box) {
    pending = box->peek(std::min(asked, holds_at_most(*box)));
    if (box->broken()) fail_broken(*box);
  }
  std::vector<message_fields> out;
  out.reserve(pending.size());
  for (const auto& m : pending) out.push_back(fields_of(m, args.agent));
  const auto text = args.form.render(out, false);
  if (!text) nul_in_raw_payload(out.size());
  if (!write_fully(*text)) {
    throw cli_error{exit_code::io_error,
                    "cannot write to stdout: " + std::string(std::strerror(errno))};
  }
  return exit_code::ok;
}

int run_clear(const global_options& globals, const std::string& agent) {
  require_agent_name(agent, "clear");
  const auto dir = resolve_bus_dir(globals);
  require_writable_stdout();
  auto box = open_existing(dir, agent, globals);
  std::uint64_t dropped = 0;
  if (box) {
    auto consumer = take(box->attach_consumer());
    dropped = consumer.clear();
    if (box->broken()) fail_broken(*box);
  }
  // The count is the only record of what was dropped, so a failed write is reported.
  if (!write_fully(std::to_string(dropped) + "\n")) {
    throw cli_error{exit_code::io_error, "cleared " + runtime::plural(dropped, "message") +
                                             " but cannot write the count to stdout"};
  }
  return exit_code::ok;
}

}  // namespace

void add_recv_verbs(CLI::App& app, cli_state& state) {
  auto recv = std::make_shared<recv_args>();
  auto* recv_cmd = app.add_subcommand(
      "recv", "consume pending messages, oldest first, and print them as a JSON array");
  recv_cmd->alias("receive");
  recv_cmd->add_option("agent", recv->agent, "the agent whose inbox to read")->required();
  recv->form.add_flags(*recv_cmd);
  recv_cmd->add_option("--max", recv->max, "consume at most N messages");
  recv_cmd->add_option("--batch", recv->batch,
                       "'auto': batch size from bus.ctl (set by the load monitor), or a count");
  recv_cmd->add_option("--wait", recv->wait,
                       "block up to DURATION (250ms, 5s, 1.5) until a message arrives");
  recv_cmd->add_flag(
      "--follow", recv->follow,
      "stream forever as JSON lines, committing each batch; stops on SIGINT/SIGTERM");
  recv_cmd->callback(
      [&state, recv] { state.action = [&state, recv] { return run_recv(state.globals, *recv); }; });

  auto peek = std::make_shared<peek_args>();
  auto* peek_cmd = app.add_subcommand("peek", "print pending messages without consuming them");
  peek_cmd->add_option("agent", peek->agent, "the agent whose inbox to look at")->required();
  peek->form.add_flags(*peek_cmd);
  peek_cmd->add_option("--max", peek->max, "show at most N messages");
  peek_cmd->callback(
      [&state, peek] { state.action = [&state, peek] { return run_peek(state.globals, *peek); }; });

  auto agent = std::make_shared<std::string>();
  auto* clear_cmd =
      app.add_subcommand("clear", "drop every pending message; prints how many were dropped");
  clear_cmd->add_option("agent", *agent, "the agent whose inbox to empty")->required();
  clear_cmd->callback([&state, agent] {
    state.action = [&state, agent] { return run_clear(state.globals, *agent); };
  });
}

}  // namespace sluice::cli
