#include "actors/bridge/front_door.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <thread>

namespace sluice::actors {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

owned_fd& owned_fd::operator=(owned_fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

owned_fd::~owned_fd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// Per-connection lines (timeouts, junk, refusals) at most this often, so a flood of hostile
// connections cannot flood the log; the first line after a quiet spell says how many were
// left out.
constexpr std::size_t log_lines_per_window = 10;
constexpr auto log_window = std::chrono::seconds(10);
// A failed accept (out of file descriptors) is retried after this pause rather than at once.
constexpr auto accept_retry = std::chrono::milliseconds(100);

class log_budget {
 public:
  // True if a line may be logged now; `left_out` then says how many were not, before it.
  bool allow(std::chrono::steady_clock::time_point now, std::uint64_t& left_out) {
    if (now - window_start_ >= log_window) {
      window_start_ = now;
      used_ = 0;
    }
    if (used_ >= log_lines_per_window) {
      ++left_out_;
      return false;
    }
    ++used_;
    left_out = left_out_;
    left_out_ = 0;
    return true;
  }

 private:
  std::chrono::steady_clock::time_point window_start_{};
  std::size_t used_ = 0;
  std::uint64_t left_out_ = 0;
};

std::string describe(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), ep.port())
                   : fmt::format("{}:{}", a.to_string(), ep.port());
}

std::string remote_of(const tcp::socket& s) {
  error_code ec;
  const auto ep = s.remote_endpoint(ec);
  return ec ? std::string("?") : describe(ep);
}

// The bridge execs nothing, but every descriptor is close-on-exec all the same; Asio opens
// and accepts without SOCK_CLOEXEC.
void close_on_exec(int fd) {
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// As CAF configures its own sockets: no Nagle delay (acks and credits are small and
// latency-bound), and keepalive so a vanished peer is noticed eventually.
void tune(tcp::socket& s) {
  error_code ec;
  s.set_option(tcp::no_delay(true), ec);
  s.set_option(asio::socket_base::keep_alive(true), ec);
  close_on_exec(s.native_handle());
}

long long millis(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

struct front_door::impl {
  struct server_session;
  struct dial_session;

  // Declared first, destroyed last: handlers it still holds may own sockets and sessions.
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  handshake_identity me;
  front_door_limits limits;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_pause{io};
  admit_fn on_admit;
  refusal_fn on_refused;
  // relaxed: written on the front door's thread only; others read it for display.
  std::atomic<std::size_t> pending{0};
  bool at_limit = false;
  std::uint64_t closed_at_limit = 0;
  log_budget budget;
  std::thread thread;

  impl(handshake_identity m, front_door_limits l) : me(std::move(m)), limits(l) {}

  void log_limited(spdlog::level::level_enum level, const std::string& line) {
    std::uint64_t left_out = 0;
    if (!budget.allow(std::chrono::steady_clock::now(), left_out)) return;
    if (left_out > 0)
      spdlog::log(level, "bridge {}: {} ({} similar lines left out)", me.name, line, left_out);
    else
      spdlog::log(level, "bridge {}: {}", me.name, line);
  }

  void accept();
  void on_accepted(tcp::socket s);
  void handshake_over();
  static runtime::result<admitted_connection> hand_over(tcp::socket& s, const std::string& peer,
                                                        const std::string& ticket,
                                                        const std::string& remote);
  void shutdown();
};

runtime::result<admitted_connection> front_door::impl::hand_over(tcp::socket& s,
                                                                 const std::string& peer,
                                                                 const std::string& ticket,
                                                                 const std::string& remote) {
  error_code ec;
  const int fd = s.release(ec);
  if (ec) return runtime::error{runtime::errc::io_error, "cannot hand over: " + ec.message()};
  return admitted_connection{peer, ticket, remote, owned_fd{fd}};
}

// ---- listening side -------------------------------------------------------------------------

struct front_door::impl::server_session : std::enable_shared_from_this<server_session> {
  impl& door;
  tcp::socket sock;
  std::string remote;
  asio::steady_timer deadline;
  server_handshake hs;
  std::array<unsigned char, handshake_prefix_size> prefix{};
  std::string body;
  std::string out;
  bool over = false;

  server_session(impl& d, tcp::socket s)
      : door(d), sock(std::move(s)), remote(remote_of(sock)), deadline(d.io), hs(d.me) {}

  void start() {
    deadline.expires_after(door.limits.handshake_timeout);
    deadline.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->over) return;
      self->door.log_limited(
          spdlog::level::warn,
          fmt::format("closed a connection from {}: no handshake within {} ms", self->remote,
                      millis(self->door.limits.handshake_timeout)));
      self->end();
    });
    read_frame();
  }

  void read_frame() {
    asio::async_read(
        sock, asio::buffer(prefix), [self = shared_from_this()](error_code ec, std::size_t) {
          if (self->over) return;
          if (ec) return self->end();  // the peer went away; nothing worth a line
          const auto len = handshake_frame_length(self->prefix);
          if (!len) {
            const std::size_t announced = (std::size_t{self->prefix[0]} << 8) | self->prefix[1];
            self->door.log_limited(
                spdlog::level::warn,
                fmt::format(
                    "closed a connection from {}: not a sluice bridge handshake (a frame of {} "
                    "bytes; at most {})",
                    self->remote, announced, max_handshake_frame));
            return self->end();
          }
          self->body.resize(*len);
          asio::async_read(self->sock, asio::buffer(self->body),
                           [self](error_code rec, std::size_t) {
                             if (self->over) return;
                             if (rec) return self->end();
                             self->out = self->hs.on_frame(self->body);
                             asio::async_write(self->sock, asio::buffer(self->out),
                                               [self](error_code wec, std::size_t) {
                                                 if (self->over) return;
                                                 if (wec) return self->end();
                                                 switch (self->hs.state()) {
                                                   case handshake_state::running:
                                                     return self->read_frame();
                                                   case handshake_state::refused:
                                                     return self->refused();
                                                   case handshake_state::accepted:
                                                     return self->admit();
                                                 }
                                               });
                           });
        });
  }

  void refused() {
    if (hs.peer().empty()) {
      door.log_limited(spdlog::level::warn,
                       fmt::format("refused a connection from {}: {}", remote, hs.why()));
    } else {
      door.log_limited(spdlog::level::err,
                       fmt::format("refused peer '{}': {} (from {})", hs.peer(), hs.why(), remote));
      if (door.on_refused) door.on_refused(hs.peer(), hs.why());
    }
    end();
  }

  void admit() {
    finish_handshake();
    auto c = hand_over(sock, hs.peer(), hs.ticket(), remote);
    if (!c) {
      spdlog::error("bridge {}: peer '{}' ({}): {}", door.me.name, hs.peer(), remote,
                    c.err().message);
      return;
    }
    if (door.on_admit) door.on_admit(std::move(c.value()));
  }

  // Ends the handshake phase once: the slot under max_unauthenticated is free again.
  void finish_handshake() {
    if (over) return;
    over = true;
    error_code ec;
    deadline.cancel(ec);
    door.handshake_over();
  }

  void end() {
    finish_handshake();
    error_code ec;
    sock.close(ec);
  }
};

void front_door::impl::accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      log_limited(spdlog::level::warn,
                  fmt::format("cannot accept a connection: {}; retrying", ec.message()));
      accept_pause.expires_after(accept_retry);
      accept_pause.async_wait([this](error_code wec) {
        if (!wec) accept();
      });
      return;
    }
    on_accepted(std::move(s));
    accept();
  });
}

void front_door::impl::on_accepted(tcp::socket s) {
  if (pending.load(std::memory_order_relaxed) >= limits.max_unauthenticated) {
    if (!at_limit) {
      at_limit = true;
      spdlog::warn(
          "bridge {}: {} connections are in the handshake at once; closing new ones until one "
          "finishes (--max-unauthenticated)",
          me.name, limits.max_unauthenticated);
    }
    ++closed_at_limit;
    error_code ec;
    s.close(ec);
    return;
  }
  pending.fetch_add(1, std::memory_order_relaxed);
  tune(s);
  std::make_shared<server_session>(*this, std::move(s))->start();
}

void front_door::impl::handshake_over() {
  pending.fetch_sub(1, std::memory_order_relaxed);
  if (at_limit) {
    at_limit = false;
    spdlog::info("bridge {}: accepting connections again ({} closed at the limit)", me.name,
                 closed_at_limit);
    closed_at_limit = 0;
  }
}

// ---- connecting side ------------------------------------------------------------------------

struct front_door::impl::dial_session : std::enable_shared_from_this<dial_session> {
  impl& door;
  std::string host;
  std::uint16_t port;
  dial_fn done;
  tcp::resolver resolver;
  tcp::socket sock;
  asio::steady_timer deadline;
  client_handshake hs;
  std::array<unsigned char, handshake_prefix_size> prefix{};
  std::string body;
  std::string out;
  bool over = false;

  dial_session(impl& d, std::string h, std::uint16_t p, dial_fn f)
      : door(d),
        host(std::move(h)),
        port(p),
        done(std::move(f)),
        resolver(d.io),
        sock(d.io),
        deadline(d.io),
        hs(d.me) {}

  void start() {
    deadline.expires_after(door.limits.handshake_timeout);
    deadline.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->over) return;
      self->finish(dial_outcome::failed, fmt::format("no connection and handshake within {} ms",
                                                     millis(self->door.limits.handshake_timeout)));
    });
    resolver.async_resolve(
        host, std::to_string(port),
        [self = shared_from_this()](error_code ec, const tcp::resolver::results_type& found) {
          if (self->over) return;
          if (ec) return self->finish(dial_outcome::failed, "cannot resolve: " + ec.message());
          asio::async_connect(self->sock, found, [self](error_code cec, const tcp::endpoint&) {
            if (self->over) return;
            if (cec) return self->finish(dial_outcome::failed, "cannot connect: " + cec.message());
            tune(self->sock);
            self->out = self->hs.hello();
            self->write_then_read();
          });
        });
  }

  void write_then_read() {
    asio::async_write(sock, asio::buffer(out),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (self->over) return;
                        if (ec) return self->broken(ec);
                        self->read_frame();
                      });
  }

  void read_frame() {
    asio::async_read(
        sock, asio::buffer(prefix), [self = shared_from_this()](error_code ec, std::size_t) {
          if (self->over) return;
          if (ec) return self->broken(ec);
          const auto len = handshake_frame_length(self->prefix);
          if (!len)
            return self->finish(dial_outcome::refused,
                                "the peer does not speak " + std::string(handshake_protocol) +
                                    " (another program, or a sluice of another version)");
          self->body.resize(*len);
          asio::async_read(
              self->sock, asio::buffer(self->body), [self](error_code rec, std::size_t) {
                if (self->over) return;
                if (rec) return self->broken(rec);
                self->out = self->hs.on_frame(self->body);
                switch (self->hs.state()) {
                  case handshake_state::refused:
                    return self->finish(dial_outcome::refused, self->hs.why());
                  case handshake_state::accepted:
                    return self->admit();
                  case handshake_state::running:
                    return self->out.empty() ? self->read_frame() : self->write_then_read();
                }
              });
        });
  }

  void broken(const error_code& ec) {
    finish(dial_outcome::failed,
           ec == asio::error::eof
               ? std::string("the peer closed the connection during the handshake (it may be "
                             "at its limit of unauthenticated connections)")
               : "the handshake broke off: " + ec.message());
  }

  void admit() {
    const auto remote = remote_of(sock);
    if (!stop()) return;
    auto c = hand_over(sock, hs.peer(), hs.ticket(), remote);
    dial_result r;
    r.peer = hs.peer();
    if (c) {
      r.outcome = dial_outcome::admitted;
      r.connection = std::move(c.value());
    } else {
      r.why = c.err().message;
    }
    done(std::move(r));
  }

  void finish(dial_outcome outcome, std::string why) {
    if (!stop()) return;
    error_code ec;
    sock.close(ec);
    dial_result r;
    r.outcome = outcome;
    r.why = std::move(why);
    r.peer = hs.peer();
    done(std::move(r));
  }

  // Ends the dial once; false if it had ended already.
  bool stop() {
    if (over) return false;
    over = true;
    error_code ec;
    deadline.cancel(ec);
    resolver.cancel();
    return true;
  }
};

// ---- front_door -----------------------------------------------------------------------------

void front_door::impl::shutdown() {
  error_code ec;
  acceptor.close(ec);
  accept_pause.cancel(ec);
  work.reset();
  io.stop();
}

front_door::front_door(handshake_identity me, front_door_limits limits)
    : impl_(std::make_unique<impl>(std::move(me), limits)) {
  impl_->thread = std::thread([p = impl_.get()] { p->io.run(); });
}

front_door::~front_door() {
  asio::post(impl_->io, [p = impl_.get()] { p->shutdown(); });
  impl_->thread.join();
}

namespace {

std::string without_brackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

runtime::result<std::uint16_t> front_door::listen(const std::string& host, std::uint16_t port) {
  error_code ec;
  tcp::resolver resolver{impl_->io};
  const auto found =
      resolver.resolve(without_brackets(host), std::to_string(port), tcp::resolver::passive, ec);
  if (ec || found.empty())
    return runtime::error{runtime::errc::io_error,
                          "cannot resolve '" + host + "': " + (ec ? ec.message() : "no address")};
  const tcp::endpoint ep = *found.begin();
  // The acceptor is not in use on the front door's thread until accept() posts there.
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) close_on_exec(a.native_handle());
  // A restarted bridge takes its port back at once, past connections in TIME_WAIT.
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) port = a.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    a.close(ignored);
    return runtime::error{runtime::errc::io_error, ec.message()};
  }
  return port;
}

void front_door::accept(admit_fn on_admit, refusal_fn on_refused) {
  asio::post(impl_->io, [p = impl_.get(), admit = std::move(on_admit),
                         refused = std::move(on_refused)]() mutable {
    p->on_admit = std::move(admit);
    p->on_refused = std::move(refused);
    p->accept();
  });
}

void front_door::dial(const std::string& host, std::uint16_t port, dial_fn done) {
  asio::post(impl_->io, [p = impl_.get(), bare = without_brackets(host), port,
                         done = std::move(done)]() mutable {
    std::make_shared<impl::dial_session>(*p, std::move(bare), port, std::move(done))->start();
  });
}

std::size_t front_door::unauthenticated() const noexcept {
  return impl_->pending.load(std::memory_order_relaxed);
}

}  // namespace sluice::actors
