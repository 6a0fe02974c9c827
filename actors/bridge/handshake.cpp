#include "actors/bridge/handshake.hpp"

#include <nlohmann/json.hpp>

#include "actors/bridge/auth.hpp"
#include "backpressure/address.hpp"

namespace sluice::actors {

namespace {

using json = nlohmann::json;

// A nonce or proof is hex (bridge_auth.hpp): 32 or 64 characters. Anything longer is not ours.
constexpr std::size_t max_token = 128;

json parse_object(std::string_view body) {
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  return j.is_object() ? j : json{};
}

std::optional<std::string> text_field(const json& j, const char* key,
                                      std::size_t max_size = max_token) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  auto s = it->get<std::string>();
  if (s.size() > max_size) return std::nullopt;
  return s;
}

std::optional<bool> bool_field(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

// What a peer says about itself ends up in our log: printable ASCII only, and not too much.
std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string encode(const json& j) {
  return handshake_frame(j.dump());
}

const std::string speaks_other = "does not speak " + std::string(handshake_protocol) +
                                 " (another program, or a sluice of another version)";
const std::string not_a_bridge = "it " + speaks_other;             // said of a client
const std::string peer_not_a_bridge = "the peer " + speaks_other;  // said of a server

}  // namespace

std::optional<std::size_t> handshake_frame_length(
    const std::array<unsigned char, handshake_prefix_size>& prefix) noexcept {
  const std::size_t n = (std::size_t{prefix[0]} << 8) | prefix[1];
  if (n == 0 || n > max_handshake_frame) return std::nullopt;
  return n;
}

std::string handshake_frame(std::string_view body) {
  std::string out;
  out.reserve(handshake_prefix_size + body.size());
  out += static_cast<char>((body.size() >> 8) & 0xFF);
  out += static_cast<char>(body.size() & 0xFF);
  out += body;
  return out;
}

// ---- server ---------------------------------------------------------------------------------

std::string server_handshake::refuse(std::string why) {
  state_ = handshake_state::refused;
  why_ = std::move(why);
  return encode({{"ok", false}, {"why", why_}});
}

std::string server_handshake::on_frame(std::string_view body) {
  if (state_ != handshake_state::running) return refuse("it kept talking after the handshake");
  if (!hello_seen_) {
    hello_seen_ = true;
    return on_hello(body);
  }
  return on_proof(body);
}

std::string server_handshake::on_hello(std::string_view body) {
  const auto j = parse_object(body);
  const auto protocol = text_field(j, "hello");
  if (!protocol || *protocol != handshake_protocol) return refuse(not_a_bridge);
  const auto name = text_field(j, "name");
  if (!name || !backpressure::is_valid_peer_name(*name))
    return refuse("its name is not a valid bridge name (^[A-Za-z0-9_-]{1,57}$)");
  peer_ = *name;
  if (peer_ == me_.name)
    return refuse("it has the same name as this bridge; give each side its own --name");
  const auto nonce_c = text_field(j, "nonce");
  const auto peer_has_secret = bool_field(j, "secret");
  const auto peer_has_tls = bool_field(j, "tls");
  if (!nonce_c || nonce_c->empty() || !peer_has_secret || !peer_has_tls)
    return refuse(not_a_bridge);
  if (me_.tls && !*peer_has_tls)
    return refuse(
        "this bridge requires TLS (--tls-cert, --tls-key, --tls-ca) and the peer has none");
  if (!me_.tls && *peer_has_tls) return refuse("the peer uses TLS and this bridge has none");
  const bool have_secret = !me_.secret.empty();
  if (have_secret && !*peer_has_secret)
    return refuse("this bridge requires --secret-file and the peer has none");
  if (!have_secret && *peer_has_secret)
    return refuse("the peer uses --secret-file and this bridge has none");
  nonce_s_ = make_nonce();
  const auto proof =
      have_secret ? auth_proof(me_.secret, "server", *nonce_c, me_.name, peer_) : std::string{};
  return encode({{"ok", true}, {"name", me_.name}, {"nonce", nonce_s_}, {"proof", proof}});
}

std::string server_handshake::on_proof(std::string_view body) {
  const auto proof_c = text_field(parse_object(body), "proof");
  if (!proof_c) return refuse(not_a_bridge);
  if (!me_.secret.empty() &&
      !proof_matches(auth_proof(me_.secret, "client", nonce_s_, peer_, me_.name), *proof_c))
    return refuse("its HMAC proof does not match this bridge's --secret-file");
  state_ = handshake_state::accepted;
  ticket_ = make_nonce();
  return encode({{"ok", true}, {"ticket", ticket_}});
}

// ---- client ---------------------------------------------------------------------------------

std::string client_handshake::refuse(std::string why) {
  state_ = handshake_state::refused;
  why_ = std::move(why);
  return {};
}

std::string client_handshake::hello() {
  nonce_c_ = make_nonce();
  return encode({{"hello", std::string(handshake_protocol)},
                 {"name", me_.name},
                 {"nonce", nonce_c_},
                 {"secret", !me_.secret.empty()},
                 {"tls", me_.tls}});
}

std::string client_handshake::on_frame(std::string_view body) {
  if (state_ != handshake_state::running) return {};
  if (!challenged_) {
    challenged_ = true;
    return on_challenge(body);
  }
  return on_verdict(body);
}

std::string client_handshake::on_challenge(std::string_view body) {
  const auto j = parse_object(body);
  const auto ok = bool_field(j, "ok");
  if (!ok) return refuse(peer_not_a_bridge);
  if (!*ok)
    return refuse("the peer refused: " +
                  printable(text_field(j, "why", max_handshake_frame).value_or("?")));
  const auto name = text_field(j, "name");
  const auto nonce_s = text_field(j, "nonce");
  const auto proof_s = text_field(j, "proof");
  if (!name || !nonce_s || nonce_s->empty() || !proof_s) return refuse(peer_not_a_bridge);
  if (!backpressure::is_valid_peer_name(*name)) return refuse("the peer's name is not valid");
  peer_ = *name;
  std::string proof_c;
  if (!me_.secret.empty()) {
    proof_c = auth_proof(me_.secret, "client", *nonce_s, me_.name, peer_);
    // Answer even so: the server then checks our proof and logs its own refusal.
    if (!proof_matches(auth_proof(me_.secret, "server", nonce_c_, peer_, me_.name), *proof_s))
      server_unproven_ = "peer '" + peer_ + "' did not prove it holds our --secret-file";
  }
  return encode({{"proof", proof_c}});
}

std::string client_handshake::on_verdict(std::string_view body) {
  if (!server_unproven_.empty()) return refuse(server_unproven_);
  const auto j = parse_object(body);
  const auto ok = bool_field(j, "ok");
  if (!ok) return refuse(peer_not_a_bridge);
  if (!*ok)
    return refuse("the peer refused: " +
                  printable(text_field(j, "why", max_handshake_frame).value_or("?")));
  const auto ticket = text_field(j, "ticket");
  if (!ticket || ticket->empty()) return refuse(peer_not_a_bridge);
  ticket_ = *ticket;
  state_ = handshake_state::accepted;
  return {};
}

}  // namespace sluice::actors
