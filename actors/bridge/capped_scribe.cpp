#include "actors/bridge/capped_scribe.hpp"

#include <openssl/err.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/stream.hpp>
#include <caf/io/scribe.hpp>
#include <caf/openssl/session.hpp>
#include <exception>

#include "actors/bridge/read_ahead.hpp"

namespace sluice::actors {

namespace {

namespace net = caf::io::network;

// The scribe's connection, as known to whoever must cut it (cut_connection).
class cuttable_scribe : public caf::io::scribe {
 public:
  using caf::io::scribe::scribe;
  virtual void cut() noexcept = 0;
};

// Reads and writes through CAF's OpenSSL session, and tells once why TLS failed if it did
// before the peer's first byte of application data arrived.
class tls_policy {
 public:
  tls_policy(caf::openssl::session_ptr session, scribe_options opts)
      : session_(std::move(session)), opts_(std::move(opts)) {}

  net::rw_state read_some(std::size_t& result, net::native_socket fd, void* buf, std::size_t len) {
    if (!established_) ERR_clear_error();
    const auto r = session_->read_some(result, fd, buf, len);
    if (r == net::rw_state::success && result > 0) established_ = true;
    if (r == net::rw_state::failure) failed();
    return r;
  }
  net::rw_state write_some(std::size_t& result, net::native_socket fd, const void* buf,
                           std::size_t len) {
    if (!established_) ERR_clear_error();
    const auto r = session_->write_some(result, fd, buf, len);
    if (r == net::rw_state::failure) failed();
    return r;
  }
  bool try_accept(net::native_socket&, net::native_socket) { return false; }  // never a doorman
  bool must_read_more(net::native_socket fd, std::size_t threshold) {
    return session_->must_read_more(fd, threshold);
  }

 private:
  // OpenSSL's reasons are on this thread's error queue (CAF's own logging, compiled out in
  // Debian's build, would otherwise have taken them).
  void failed() {
    if (established_ || reported_ || !opts_.on_tls_failure) return;
    reported_ = true;
    std::string why;
    bool refused = false;
    while (const unsigned long e = ERR_get_error()) {
      const char* reason = ERR_reason_error_string(e);
      if (!why.empty()) why += "; ";
      why += reason != nullptr ? reason : "unknown TLS error";
      refused = refused || ERR_GET_LIB(e) == ERR_LIB_SSL || ERR_GET_LIB(e) == ERR_LIB_X509;
    }
    if (why.empty()) why = "the connection closed during the TLS handshake";
    opts_.on_tls_failure(why, refused);
  }

  caf::openssl::session_ptr session_;
  scribe_options opts_;
  bool established_ = false;
  bool reported_ = false;
};

// CAF's stream_impl, plus a write at once. CAF's stream writes what a broker flushed only in
// the loop's next round: flush registers the socket for writing (epoll_ctl), the loop goes
// round (epoll_wait says writable), writes, and unregisters it (epoll_ctl). On a quiet link
// every batch and every acknowledgement pays that, a few microseconds of the one-message
// latency. Writing at once, when nothing was pending, makes the registration and its removal
// cancel out within the round (the multiplexer squashes them) unless the socket is full.
template <class Policy>
class eager_stream final : public net::stream {
 public:
  template <class... Ts>
  eager_stream(net::default_multiplexer& mx, int fd, Ts&&... policy_args)
      : net::stream(mx, fd), policy_(std::forward<Ts>(policy_args)...) {}

  void handle_event(net::operation op) override { handle_event_impl(op, policy_); }

  // Hands the write buffer to the socket as flush does, and writes it now if nothing else was
  // pending (else that goes first, in the loop). A failure is not reported from here: that
  // would run the broker's handler inside its own flush. The data then stays pending, and the
  // loop's write event meets the same failure and reports it as usual.
  void flush_now(const manager_ptr& mgr) {
    const bool idle = !state_.writing;
    flush(mgr);
    if (!idle || !state_.writing) return;
    struct failure_left_for_the_loop {
      Policy& p;
      net::rw_state read_some(std::size_t&, net::native_socket, void*, std::size_t) {
        return net::rw_state::indeterminate;  // never called for a write
      }
      net::rw_state write_some(std::size_t& result, net::native_socket fd, const void* buf,
                               std::size_t len) {
        const auto r = p.write_some(result, fd, buf, len);
        if (r != net::rw_state::failure) return r;
        result = 0;
        return net::rw_state::success;
      }
      bool must_read_more(net::native_socket, std::size_t) { return false; }
    } eager{policy_};
    handle_event_impl(net::operation::write, eager);
    // All written: the registration for writing and its removal cancelled out in the
    // multiplexer's queue, so the loop will never call removed_from_loop(write), which is
    // where the stream lets go of its writer (this scribe). Without this, the stream would
    // keep its own scribe alive.
    if (!state_.writing) removed_from_loop(net::operation::write);
  }

 private:
  Policy policy_;
};

// As caf::io::network::scribe_impl (and caf::openssl's own scribe), over a stream with the
// given policy, plus the frame cap and the write at once.
template <class Policy>
class capped_scribe final : public cuttable_scribe {
 public:
  template <class... Ts>
  capped_scribe(net::default_multiplexer& mx, int fd, scribe_options opts, std::string peer,
                std::string remote, Ts&&... policy_args)
      : cuttable_scribe(net::conn_hdl_from_socket(fd)),
        opts_(std::move(opts)),
        peer_(std::move(peer)),
        remote_(std::move(remote)),
        max_read_(std::max<std::size_t>(wire::basp_header_size, opts_.max_payload)),
        stream_(mx, fd, std::forward<Ts>(policy_args)...) {}

  // The broker's request for the next read; for BASP, the announced payload length. Above the
  // cap it is not passed on, so nothing is allocated: the connection is shut down instead, and
  // the broker sees it closed (or, if bytes are still buffered, a short payload, which it
  // rejects as malformed and closes).
  void configure_read(caf::io::receive_policy::config config) override {
    if (config.second > max_read_) {
      if (!cut_) {
        cut_ = true;
        spdlog::warn(
            "bridge {}: closed the connection to '{}' ({}): it announced a CAF frame of {} "
            "bytes; a bridge sends at most {}",
            opts_.bridge, peer_, remote_, config.second, max_read_);
        cut();
      }
      return;
    }
    stream_.configure_read(config);
    if (!launched_) launch();
  }
  void ack_writes(bool enable) override { stream_.ack_writes(enable); }
  std::vector<char>& wr_buf() override { return stream_.wr_buf(); }
  std::vector<char>& rd_buf() override { return stream_.rd_buf(); }
  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }
  void flush() override { stream_.flush_now(this); }
  std::string addr() const override {
    auto x = net::remote_addr_of_fd(stream_.fd());
    return x ? *x : std::string{};
  }
  std::uint16_t port() const override {
    auto x = net::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }
  void add_to_loop() override { stream_.activate(this); }
  void remove_from_loop() override { stream_.passivate(); }
  void cut() noexcept override { ::shutdown(stream_.fd(), SHUT_RDWR); }

 private:
  void launch() {
    launched_ = true;
    stream_.start(this);
    // A TLS session may still have to finish SSL_accept / SSL_connect: a first (empty) write
    // gets the stream scheduled for it, as CAF's own TLS scribe does.
    if (opts_.tls) stream_.force_empty_write(this);
  }

  scribe_options opts_;
  std::string peer_;
  std::string remote_;
  std::size_t max_read_;
  bool cut_ = false;  // only touched on CAF's I/O thread, in configure_read
  bool launched_ = false;
  eager_stream<Policy> stream_;
};

}  // namespace

runtime::result<caf::io::scribe_ptr> make_capped_scribe(caf::actor_system& sys,
                                                        admitted_connection& conn,
                                                        const scribe_options& opts) {
  auto& mx = static_cast<net::default_multiplexer&>(sys.middleman().backend());
  const int fd = conn.socket.release();
  // As default_multiplexer::new_scribe does for the sockets CAF opens itself.
  (void)net::keepalive(fd, true);
  (void)net::nonblocking(fd, true);
  if (!opts.tls)
    return caf::io::scribe_ptr{
        caf::make_counted<capped_scribe<read_ahead_tcp>>(mx, fd, opts, conn.peer, conn.remote)};
  caf::openssl::session_ptr session;
  std::string why = "OpenSSL could not set up a session";
  try {
    // Starts the TLS handshake at once (SSL_connect sends the ClientHello); the stream carries
    // it on from CAF's I/O thread.
    session = caf::openssl::make_session(sys, fd, opts.accepted);
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!session) {
    ::close(fd);
    return runtime::error{runtime::errc::io_error, "TLS with '" + conn.peer + "': " + why};
  }
  return caf::io::scribe_ptr{caf::make_counted<capped_scribe<tls_policy>>(
      mx, fd, opts, conn.peer, conn.remote, std::move(session), opts)};
}

void cut_connection(const caf::io::scribe_ptr& scribe) noexcept {
  if (auto* s = dynamic_cast<cuttable_scribe*>(scribe.get())) s->cut();
}

}  // namespace sluice::actors
