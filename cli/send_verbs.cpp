// send and its seed name send-backpressure: validate everything, then one backpressured push.
// Nothing is created or sent unless every argument and setting is valid.
#include <CLI/CLI.hpp>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "backpressure/address.hpp"
#include "backpressure/send.hpp"
#include "cli/message_json.hpp"
#include "governance/send_gate.hpp"
#include "runtime/bus_control.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/stdio.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/config.hpp"
#include "runtime/duration.hpp"
#include "runtime/metrics_send_observer.hpp"

namespace sluice::cli {

namespace {

struct send_args {
  std::string from;
  std::string to;
  std::string type;
  std::string payload;
  std::string priority = "normal";
  std::string timeout;  // empty: the seed's budget, retries x wait
  bool no_wait = false;
  std::string overflow = "reject";
  bool print_id = false;
  bool raw = false;             // stdin exactly, no trailing newline removed
  std::string rate_limit;       // "RATE[:BURST]" per sender, shared by every process via bus.ctl
  std::string pair_rate_limit;  // the same for this sender -> destination pair
};

bool is_valid_type(std::string_view type) {
  if (type.empty() || type.size() > inbox::max_type_name) return false;
  for (const char c : type) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

struct checked_send {
  inbox::priority prio;
  inbox::overflow_policy overflow;
  std::optional<std::chrono::nanoseconds> deadline;
  std::optional<backpressure::rate_limit> rate;       // per sender
  std::optional<backpressure::rate_limit> pair_rate;  // per sender -> destination
};

// "RATE[:BURST]": RATE messages per second (fractions allowed), BURST messages at once.
std::optional<backpressure::rate_limit> parse_rate_limit(const std::string& text,
                                                         const char* flag) {
  if (text.empty()) return std::nullopt;
  const auto colon = text.find(':');
  const std::string rate_text = text.substr(0, colon);
  const std::string burst_text = colon == std::string::npos ? "1" : text.substr(colon + 1);
  backpressure::rate_limit limit;
  std::size_t used_rate = 0;
  std::size_t used_burst = 0;
  unsigned long burst = 0;
  try {
    limit.per_second = std::stod(rate_text, &used_rate);
    burst = std::stoul(burst_text, &used_burst);
  } catch (const std::exception&) {
    used_rate = 0;
  }
  const bool valid = used_rate == rate_text.size() && used_burst == burst_text.size() &&
                     std::isfinite(limit.per_second) && limit.per_second > 0 &&
                     limit.per_second <= 1e9 && burst >= 1 && burst <= 1000000 &&
                     burst_text.find('-') == std::string::npos;
  if (!valid) {
    throw cli_error{exit_code::bad_input,
                    std::string("invalid ") + flag + " " + quote(text) +
                        ": use RATE[:BURST], RATE messages per second (> 0, e.g. 0.5 or 200) "
                        "and BURST from 1 to 1000000"};
  }
  limit.burst = static_cast<std::uint32_t>(burst);
  return limit;
}

checked_send check_arguments(const send_args& a) {
  require_agent_name(a.from, "from");
  require_agent_name(a.to, "to");
  if (!is_valid_type(a.type)) {
    throw cli_error{exit_code::bad_input, "invalid message type " + quote(a.type) + ": use 1-" +
                                              std::to_string(inbox::max_type_name) +
                                              " characters from A-Z a-z 0-9 _ - . :"};
  }
  checked_send c{};
  const auto prio = inbox::parse_priority(a.priority);
  if (!prio) {
    throw cli_error{exit_code::bad_input, "invalid --priority " + quote(a.priority) +
                                              ": use critical, high, normal or low"};
  }
  c.prio = *prio;
  if (a.overflow == "reject") {
    c.overflow = inbox::overflow_policy::reject;
  } else if (a.overflow == "drop-oldest") {
    c.overflow = inbox::overflow_policy::drop_oldest;
  } else {
    throw cli_error{exit_code::bad_input,
                    "invalid --overflow " + quote(a.overflow) + ": use reject or drop-oldest"};
  }
  if (!a.timeout.empty()) c.deadline = take(runtime::parse_duration(a.timeout, "--timeout"));
  c.rate = parse_rate_limit(a.rate_limit, "--rate-limit");
  c.pair_rate = parse_rate_limit(a.pair_rate_limit, "--pair-rate-limit");
  return c;
}

backpressure::send_policy make_policy(const checked_send& c, const send_args& a,
                                      const std::filesystem::path& dir, runtime::config& config) {
  backpressure::send_policy policy;
  policy.max_retries = take(config.backpressure_retries());
  // The load monitor's choice in bus.ctl wins over the configured base wait (docs/architecture.md
  // section 4).
  policy.backoff.base = std::chrono::milliseconds(
      take(runtime::read_policy(dir, take(runtime::configured_policy(config))))
          .backpressure_wait_ms);
  policy.deadline = c.deadline;
  policy.wait = !a.no_wait;
  policy.overflow = c.overflow;
  return policy;
}

// Points the policy's rate gates at the shared buckets in bus.ctl; `control` must outlive
// the send. A full bucket table is an error rather than a silently unlimited send.
void attach_rate_gates(backpressure::send_policy& policy, const checked_send& c, const send_args& a,
                       const std::filesystem::path& dir, runtime::config& config,
                       std::optional<runtime::bus_control>& control) {
  if (!c.rate && !c.pair_rate) return;
  control.emplace(
      take(runtime::bus_control::open_or_create(dir, take(runtime::configured_policy(config)))));
  std::size_t gate = 0;
  auto add = [&](const std::optional<backpressure::rate_limit>& limit, std::uint64_t key) {
    if (!limit) return;
    backpressure::token_bucket_cell* cell = control->bucket_for(key);
    if (cell == nullptr) {
      throw cli_error{exit_code::temp_fail,
                      "every rate-limit bucket of bus.ctl is taken: nothing sent; remove the bus "
                      "(sluice cleanup-system) or use fewer distinct limited senders"};
    }
    policy.rate_gates[gate++] = backpressure::rate_gate{cell, *limit};
  };
  add(c.rate, runtime::rate_key(a.from));
  add(c.pair_rate, runtime::rate_key(a.from, a.to));
}

// address: the destination as the caller wrote it (a.to is the outbound inbox for agent@peer).
int report(const backpressure::send_outcome& out, const send_args& a, const inbox::inbox& dest,
           std::size_t payload_size, std::string_view address) {
  if (out.status == backpressure::send_status::sent) {
    if (a.print_id && !write_fully(format_msg_id(out.receipt.id) + "\n")) {
      throw cli_error{exit_code::io_error,
                      "the message was sent but its id could not be written to stdout"};
    }
    return exit_code::ok;
  }
  auto f = runtime::describe_send_failure(a.from, a.to, out, payload_size,
                                          dest.snapshot().max_payload, address);
  throw cli_error{f.code, std::move(f.message)};
}

int run_send(const global_options& globals, const send_args& given) {
  // agent@peer goes into the outbound inbox of the bridge to peer, the agent in an envelope
  // (backpressure/bridge_route.hpp), so backpressure and the breaker apply to it unchanged.
  const auto remote = take(backpressure::parse_address(given.to));
  send_args a = given;
  if (remote) a.to = backpressure::outbound_inbox(remote->peer);
  const auto checked = check_arguments(a);
  // Before sending: the id would be lost.
  if (a.print_id) require_writable_stdout("nothing was sent");
  const auto dir = resolve_bus_dir(globals);
  runtime::config config(dir);
  auto policy = make_policy(checked, a, dir, config);
  // The inbox's own limit (an existing inbox's, or what a new one would take) bounds what is
  // read, before anything is created: a payload that would be refused leaves no inbox behind.
  auto existing = open_existing(dir, a.to, globals);
  const std::size_t limit = runtime::payload_limit(
      given.to, existing ? existing->snapshot().max_payload : new_inbox_max_payload(config));
  std::string payload = read_payload(a.payload, limit, given.to, a.raw);
  if (remote) payload = backpressure::wrap_envelope(remote->agent, payload);
  auto dest = open_or_create(dir, a.to, config, globals, std::move(existing));
  std::optional<runtime::bus_control> control;  // after the inbox: that creates the bus dir
  attach_rate_gates(policy, checked, a, dir, config, control);
  governance::send_gate gate(dir);  // the bus policy (policy.ctl), obeyed without flags
  policy.gate = &gate;
  runtime::metrics_send_observer telemetry(config);
  const auto out = backpressure::send_with_backpressure(
      dest, inbox::message_view{a.from, a.type, payload, checked.prio}, policy, telemetry);
  return report(out, a, dest, payload.size(), given.to);
}

void add_send_verb(CLI::App& app, cli_state& state, const char* name, const char* help) {
  auto a = std::make_shared<send_args>();
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("from", a->from, "sending agent")->required();
  cmd->add_option(
         "to", a->to,
         "destination agent (its inbox is created when missing), or agent@bridge for a bridged bus")
      ->required();
  cmd->add_option("type", a->type, "message type, 1-32 of A-Z a-z 0-9 _ - . :")->required();
  cmd->add_option("payload", a->payload, "payload text (JSON or not), or - to read stdin")
      ->required();
  cmd->add_option("--priority", a->priority, "critical, high, normal (default) or low");
  auto* timeout =
      cmd->add_option("--timeout", a->timeout,
                      "give up after DURATION of backpressure (default retries x wait, 5s)");
  // --no-wait never waits, so a --timeout beside it would be ignored without a word.
  cmd->add_flag("--no-wait", a->no_wait, "fail at once (exit 75) when the inbox is full")
      ->excludes(timeout);
  cmd->add_option("--overflow", a->overflow,
                  "reject (default) or drop-oldest: evict the oldest message to make room");
  cmd->add_flag("--print-id", a->print_id, "print the message id on success");
  cmd->add_flag("--raw", a->raw,
                "with -: send stdin's bytes exactly (by default one trailing newline is "
                "removed, as $(cat) would)");
  cmd->add_option("--rate-limit", a->rate_limit,
                  "RATE[:BURST]: at most RATE msgs/s from this sender, across every process; "
                  "waits for a token (exit 75 when it would outlast --timeout or with --no-wait)");
  cmd->add_option("--pair-rate-limit", a->pair_rate_limit,
                  "RATE[:BURST]: the same for this sender -> destination pair");
  cmd->callback(
      [&state, a] { state.action = [&state, a] { return run_send(state.globals, *a); }; });
}

}  // namespace

void add_send_verbs(CLI::App& app, cli_state& state) {
  add_send_verb(app, state, "send",
                "send a message with backpressure; exit 0 sent, 75 still full, 69 circuit open, "
                "65 bad input");
  add_send_verb(app, state, "send-backpressure", "the bash tool's name for send");
}

}  // namespace sluice::cli
