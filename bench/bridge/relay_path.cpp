// sluice-bench bridge: the floor under the bridge. The same topology as the bridge path, with
// the same inboxes at both ends, but two bare relay processes in place of the bridges: no CAF,
// no acknowledgements, no credit, no crash safety, only what any design of this shape must do.
//
//   producer -> inbox out --bell--> [relay west: poll, pop, write] --tcp--> [relay east:
//   read, push] -> inbox far -> consumer
//
// Three thread wake-ups, one TCP hop, the fewest system calls a message can take this way. The
// difference between this row and the bridge's is what the bridge itself costs.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "bench/bridge/paths.hpp"
#include "bench/bridge/tcp_stream.hpp"
#include "inbox/bell.hpp"
#include "inbox/inbox.hpp"

namespace sluice::bench {

namespace {

// Pops out as soon as its bell rings and writes each message as u32 length + payload.
[[noreturn]] void relay_west(const std::filesystem::path& dir, tcp_stream& sock) {
  auto box = inbox::inbox::open(dir, "out");
  auto bell = inbox::bell::open();
  if (!box || !bell) ::_exit(2);
  auto cons = box->attach_consumer();
  if (!cons) ::_exit(3);
  std::string frame;
  for (;;) {
    if (cons->arm(*bell)) {
      pollfd p{bell->fd(), POLLIN, 0};
      // A waiter on a bell looks again every bell_recheck (bell.hpp says why).
      (void)::poll(&p, 1, static_cast<int>(inbox::bell_recheck.count()));
      bell->take_one();
      cons->disarm();
    }
    const auto batch = cons->pop_batch(512);
    if (batch.empty()) continue;
    frame.clear();
    for (const auto& m : batch) {
      const auto n = static_cast<std::uint32_t>(m.payload.size());
      frame.append(reinterpret_cast<const char*>(&n), sizeof n).append(m.payload);
    }
    if (!sock.write_all(frame)) ::_exit(0);
    cons->commit();
  }
}

// Reads what arrives and pushes each message into `far`, waiting while it is full.
[[noreturn]] void relay_east(const std::filesystem::path& dir, int sock) {
  auto box = inbox::inbox::open(dir, "far");
  if (!box) ::_exit(2);
  std::vector<char> buf(256 * 1024);
  std::size_t have = 0;
  for (;;) {
    const auto r = ::read(sock, buf.data() + have, buf.size() - have);  // blocks until data
    if (r <= 0) ::_exit(0);
    have += static_cast<std::size_t>(r);
    std::size_t at = 0;
    std::uint32_t n = 0;
    while (have - at >= sizeof n) {
      std::memcpy(&n, buf.data() + at, sizeof n);
      if (have - at - sizeof n < n) break;
      const std::string_view payload(buf.data() + at + sizeof n, n);
      while (box->try_push({"bench", "t", payload}) == inbox::push_result::full)
        (void)box->wait_not_full(std::chrono::milliseconds(50));
      at += sizeof n + n;
    }
    std::memmove(buf.data(), buf.data() + at, have - at);
    have -= at;
  }
}

int without_delay(int fd) {
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int tcp_socket() {
  return without_delay(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

}  // namespace

std::optional<path_numbers> measure_bare_relay(const std::filesystem::path& dir,
                                               const workload& w) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  auto out = inbox::inbox::open_or_create(dir, "out");
  auto far = inbox::inbox::open_or_create(dir, "far");
  const int listener = tcp_socket();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (!out || !far || listener < 0 ||
      ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::fprintf(stderr, "sluice-bench bridge: cannot set up the bare relay\n");
    if (listener >= 0) ::close(listener);
    return std::nullopt;
  }
  tcp_stream dialer(ntohs(a.sin_port));  // west writes to its copy after the fork
  if (!dialer.ok()) {
    std::fprintf(stderr, "sluice-bench bridge: the bare relay cannot connect\n");
    ::close(listener);
    return std::nullopt;
  }
  const int accepted = without_delay(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  ::close(listener);
  // A relay dies with the bench, even one interrupted before it could stop them.
  const auto die_with_parent = [] { (void)::prctl(PR_SET_PDEATHSIG, SIGKILL); };
  const pid_t west = ::fork();
  if (west == 0) {
    die_with_parent();
    relay_west(dir, dialer);
  }
  const pid_t east = ::fork();
  if (east == 0) {
    die_with_parent();
    relay_east(dir, accepted);
  }
  ::close(accepted);
  std::optional<path_numbers> n;
  if (west > 0 && east > 0) n = measure_inboxes(*out, *far, false, w);
  // Without credit the relay lets messages pile up in the far inbox and the sockets under load:
  // its latency under load says nothing about any bridge.
  if (n) n->loaded_p50_us = -1;
  for (const pid_t p : {west, east}) {
    if (p <= 0) continue;
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
  return n;
}

}  // namespace sluice::bench
