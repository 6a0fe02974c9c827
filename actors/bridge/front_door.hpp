#pragma once
// The bridge's front door (no CAF here): every TCP connection of a bridge, accepted or dialed,
// goes through it, and CAF only ever sees peers that passed the bridge handshake.
//
// Why not CAF's own doorman: CAF 0.17's BASP broker allocates whatever payload length a
// 32-byte header declares (up to 4 GiB) before any check, and the middleman has no setting to
// bound that, to close a connection that never authenticates, or to limit connections; an
// unauthenticated peer could exhaust a listening bridge's memory and stall its links. So the
// bridge opens its TCP sockets itself (Boost.Asio, one thread of its own) and runs the
// handshake of bridge_handshake.hpp (HMAC over --secret-file) on each connection, with frames
// of at most max_handshake_frame bytes, within handshake_timeout from accept (a peer that
// trickles bytes gains nothing), and with at most max_unauthenticated connections in the
// handshake at once (more are closed at once). Only then is the socket handed over, to be
// wrapped for CAF by bridge_capped_scribe.hpp. Nothing listens for CAF on any port, so nothing
// reaches CAF around the front door; after the hand-over CAF reads the socket itself, so the
// front door costs nothing per message.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/bridge/handshake.hpp"
#include "runtime/result.hpp"

namespace sluice::actors {

struct front_door_limits {
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds(5);  // accept to accepted
  std::size_t max_unauthenticated = 16;  // connections still in the handshake, at once
};

// A file descriptor that is closed unless someone takes it.
class owned_fd {
 public:
  owned_fd() = default;
  explicit owned_fd(int fd) noexcept : fd_(fd) {}
  owned_fd(owned_fd&& o) noexcept : fd_(o.release()) {}
  owned_fd& operator=(owned_fd&& o) noexcept;
  owned_fd(const owned_fd&) = delete;
  owned_fd& operator=(const owned_fd&) = delete;
  ~owned_fd();
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// A connection that passed the handshake.
struct admitted_connection {
  std::string peer;    // the far bridge's name
  std::string ticket;  // from the server's verdict (see bridge_handshake.hpp)
  std::string remote;  // "address:port" of the far end, for logs
  owned_fd socket;     // the TCP socket, from here on the callee's
};

enum class dial_outcome {
  admitted,  // connected and authenticated: `connection` is set
  refused,   // the far side refused us or we refused it: retrying will not help
  failed,    // could not connect, or the connection broke or timed out: retry later
};

struct dial_result {
  dial_outcome outcome = dial_outcome::failed;
  std::string why;   // unless admitted
  std::string peer;  // the far bridge's name, once its challenge told it
  admitted_connection connection;
};

class front_door {
 public:
  // Called on the front door's thread: must not block. The admitted connection's socket is
  // the callee's to keep or close.
  using admit_fn = std::function<void(admitted_connection)>;
  using refusal_fn = std::function<void(const std::string& peer, const std::string& why)>;
  using dial_fn = std::function<void(dial_result)>;

  // Starts the front door's thread. The calling thread's signal mask is inherited.
  front_door(handshake_identity me, front_door_limits limits);
  // Closes every socket and joins the thread; no callback runs after it returns.
  ~front_door();
  front_door(const front_door&) = delete;
  front_door& operator=(const front_door&) = delete;

  // Binds HOST:PORT (port 0: any free port) and listens; returns the bound port. Connections
  // wait in the kernel's backlog until accept(). Once per front door.
  runtime::result<std::uint16_t> listen(const std::string& host, std::uint16_t port);

  // Accepts peers from then on: each one that passes the handshake goes to on_admit;
  // on_refused hears of each peer refused by name (anonymous junk, timeouts and connections
  // over the limit are only logged, at a bounded rate).
  void accept(admit_fn on_admit, refusal_fn on_refused);

  // Connects to HOST:PORT and runs the client handshake, all within handshake_timeout;
  // `done` runs exactly once (unless the front door is destroyed first).
  void dial(const std::string& host, std::uint16_t port, dial_fn done);

  // Connections in the handshake right now (for tests and logs). Thread-safe.
  [[nodiscard]] std::size_t unauthenticated() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sluice::actors
