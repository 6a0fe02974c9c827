#pragma once
// The bridge's own handshake, spoken on every new TCP connection before CAF's BASP takes the
// connection over (no CAF and no sockets here: the front door in bridge_front_door.hpp moves
// the frames). It authenticates both sides with an HMAC challenge-response over the shared
// --secret-file (bridge_auth.hpp), so nothing a peer sends reaches CAF before it has proved it
// holds the secret:
//
//   client -> {"hello":"sluice-bridge/3","name":C,"nonce":Nc,"secret":true|false,"tls":true|false}
//   server -> {"ok":true,"name":S,"nonce":Ns,"proof":HMAC("server",Nc,S,C)}
//           | {"ok":false,"why":W}
//   client -> {"proof":HMAC("client",Ns,C,S)}
//   server -> {"ok":true,"ticket":T} | {"ok":false,"why":W}
//
// after which both sides speak BASP on the same connection, inside TLS when both said "tls"
// (capped_scribe.hpp). Both sides must agree on the secret and on TLS: a server with TLS
// refuses a plaintext client and the other way round, so neither ever speaks BASP in the
// clear to a peer that expects TLS. Without a secret on either side the proofs are empty. The
// client checks the server's proof before it answers, but answers even when it fails, so the server
// checks the client's proof and logs its own refusal too. The ticket T is a fresh nonce: the client
// presents it to the server's acceptor actor over CAF, which links only peers holding a ticket that
// its front door issued.
//
// Each message is one frame: a 2-byte big-endian length (1..max_handshake_frame) followed by
// that many bytes of JSON. The limit is checked on the length before anything is read.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::actors {

inline constexpr std::size_t max_handshake_frame = 1024;
inline constexpr std::size_t handshake_prefix_size = 2;
inline constexpr std::string_view handshake_protocol = "sluice-bridge/3";

// The length a frame prefix announces, or nullopt when it is 0 or above max_handshake_frame.
[[nodiscard]] std::optional<std::size_t> handshake_frame_length(
    const std::array<unsigned char, handshake_prefix_size>& prefix) noexcept;

// The prefix and the body, ready to write. body.size() must be 1..max_handshake_frame.
[[nodiscard]] std::string handshake_frame(std::string_view body);

struct handshake_identity {
  std::string name;    // this bridge's --name
  std::string secret;  // --secret-file's content; empty: no authentication
  bool tls = false;    // --tls-cert and friends: the connection continues in TLS
};

enum class handshake_state { running, accepted, refused };

// The listening side. Feed it each received frame body; send what it returns (always one
// frame); then read the next frame while running, hand the connection to CAF once accepted,
// or close it once refused.
class server_handshake {
 public:
  explicit server_handshake(handshake_identity me) : me_(std::move(me)) {}

  [[nodiscard]] std::string on_frame(std::string_view body);

  [[nodiscard]] handshake_state state() const noexcept { return state_; }
  // The name the peer gave in its hello, when that is a valid bridge name; "" otherwise.
  [[nodiscard]] const std::string& peer() const noexcept { return peer_; }
  [[nodiscard]] const std::string& why() const noexcept { return why_; }        // once refused
  [[nodiscard]] const std::string& ticket() const noexcept { return ticket_; }  // once accepted

 private:
  std::string refuse(std::string why);
  std::string on_hello(std::string_view body);
  std::string on_proof(std::string_view body);

  handshake_identity me_;
  handshake_state state_ = handshake_state::running;
  bool hello_seen_ = false;
  std::string peer_;
  std::string nonce_s_;
  std::string why_;
  std::string ticket_;
};

// The connecting side: send hello(), then feed it each received frame body and send what it
// returns (nothing when it returns ""), until it is accepted or refused.
class client_handshake {
 public:
  explicit client_handshake(handshake_identity me) : me_(std::move(me)) {}

  [[nodiscard]] std::string hello();
  [[nodiscard]] std::string on_frame(std::string_view body);

  [[nodiscard]] handshake_state state() const noexcept { return state_; }
  [[nodiscard]] const std::string& peer() const noexcept { return peer_; }  // the server's name
  [[nodiscard]] const std::string& why() const noexcept { return why_; }
  [[nodiscard]] const std::string& ticket() const noexcept { return ticket_; }

 private:
  std::string refuse(std::string why);
  std::string on_challenge(std::string_view body);
  std::string on_verdict(std::string_view body);

  handshake_identity me_;
  handshake_state state_ = handshake_state::running;
  bool challenged_ = false;
  std::string nonce_c_;
  std::string peer_;
  std::string server_unproven_;  // set when the server's proof did not match
  std::string why_;
  std::string ticket_;
};

}  // namespace sluice::actors
