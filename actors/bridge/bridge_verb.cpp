// `sluice bridge [--listen HOST:PORT] [--connect HOST:PORT]... [--name N] [--secret-file F]
//  [--tls-cert F --tls-key F --tls-ca F] [--batch N] [--handshake-timeout D]
//  [--max-unauthenticated N]`
// (docs/architecture.md section 9). The actor system lives in actors/bridge; this file parses flags
// and maps errors to exit codes.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "actors/bridge/bridge.hpp"
#include "runtime/cli/actor_verbs.hpp"
#include "runtime/cli/bus_access.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/count.hpp"
#include "runtime/duration.hpp"

namespace sluice::cli {

namespace {

int run_bridge_verb(const global_options& globals, actors::bridge_options opts) {
  opts.bus = {globals.dir, globals.bus};
  auto code = actors::run_bridge(opts);
  if (!code) throw cli_error{runtime::exit_code_for(code.err().code), code.err().message};
  return code.value();
}

}  // namespace

void add_feature_verbs(CLI::App& app, cli_state& state) {
  auto opts = std::make_shared<actors::bridge_options>();
  auto secret = std::make_shared<std::string>();
  auto handshake_timeout = std::make_shared<std::string>("5s");
  auto batch = std::make_shared<std::string>();
  auto max_unauthenticated = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("bridge", actor_verb_description("bridge"));
  cmd->add_option("--name", opts->name,
                  "this bridge's name, used by the far side in agent@NAME (default: the bus name)");
  cmd->add_option("--listen", opts->listen,
                  "accept peers on HOST:PORT, as many as connect (port 0: any free port; a JSON "
                  "line on stdout says which)");
  cmd->add_option("--connect", opts->connect,
                  "connect to the peer at HOST:PORT, reconnecting with backoff; repeat for more "
                  "peers (may be combined with --listen)")
      ->allow_extra_args(false);
  cmd->add_option("--secret-file", *secret,
                  "shared secret (mode 0600) both sides must hold: HMAC challenge-response");
  auto* cert = cmd->add_option("--tls-cert", opts->tls.cert,
                               "TLS: this bridge's certificate (PEM); with --tls-key and --tls-ca "
                               "every link is encrypted and both sides' certificates verified");
  auto* key = cmd->add_option("--tls-key", opts->tls.key,
                              "TLS: the certificate's private key (PEM, unencrypted, mode 0600)");
  auto* ca = cmd->add_option("--tls-ca", opts->tls.ca,
                             "TLS: the CA certificate(s) a peer's certificate must be signed by");
  cert->needs(key, ca);
  key->needs(cert, ca);
  ca->needs(cert, key);
  cmd->add_option("--batch", *batch,
                  "messages taken from an outbound inbox per commit, 1-4096 and at most half its "
                  "capacity (default 512)");
  cmd->add_option("--handshake-timeout", *handshake_timeout,
                  "a connection that has not finished the bridge handshake this long after it "
                  "opened is closed (default 5s)");
  cmd->add_option("--max-unauthenticated", *max_unauthenticated,
                  "connections in the handshake at once, 1-4096; more are closed at once "
                  "(default 16)");
  cmd->callback([&state, opts, secret, handshake_timeout, batch, max_unauthenticated] {
    state.action = [&state, opts, secret, handshake_timeout, batch, max_unauthenticated] {
      auto o = *opts;
      if (!batch->empty())
        o.batch =
            static_cast<decltype(o.batch)>(take(runtime::parse_count(*batch, "--batch", 1, 4096)));
      if (!max_unauthenticated->empty())
        o.max_unauthenticated = static_cast<decltype(o.max_unauthenticated)>(
            take(runtime::parse_count(*max_unauthenticated, "--max-unauthenticated", 1, 4096)));
      o.secret_file = *secret;
      auto timeout = runtime::parse_duration(*handshake_timeout, "--handshake-timeout");
      if (!timeout || timeout->count() <= 0)
        throw cli_error{exit_code::bad_input, "--handshake-timeout " + *handshake_timeout +
                                                  ": give a positive duration such as 5s or 500ms"};
      o.handshake_timeout = *timeout;
      return run_bridge_verb(state.globals, std::move(o));
    };
  });
}

}  // namespace sluice::cli
