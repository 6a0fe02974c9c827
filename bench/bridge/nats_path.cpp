// sluice-bench bridge: NATS between one publisher and one subscriber, as its users run it:
// nats-server with its defaults (core NATS, at-most-once, no JetStream), a publisher that
// writes PUB frames as fast as its socket takes them (buffered 64 messages per write, as the
// client libraries' write buffers do), and a subscriber on the subject. Core NATS does not
// push back on a publisher: a subscriber that falls behind loses messages (the server cuts a
// slow consumer off), which the report counts as lost.
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench/bridge/paths.hpp"
#include "bench/bridge/tcp_stream.hpp"

namespace sluice::bench {

const char* const nats_setup_note =
    "nats-server with its defaults (core NATS, at-most-once, no JetStream), bound to "
    "127.0.0.1; one publisher connection writing 64 PUB frames at a time, one subscriber "
    "connection";

namespace {

constexpr std::size_t write_batch = 64;
constexpr auto quiet_end = std::chrono::seconds(2);  // no message for this long: the rest is lost

// Reads INFO, says CONNECT, and waits for the server's PONG so what follows is in effect.
bool handshake(tcp_stream& c, const std::string& then) {
  const auto info = c.read_line();
  if (!info || info->rfind("INFO", 0) != 0) return false;
  if (!c.write_all("CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false}\r\n" + then +
                   "PING\r\n"))
    return false;
  for (;;) {
    const auto line = c.read_line();
    if (!line) return false;
    if (*line == "PONG") return true;
    if (line->rfind("-ERR", 0) == 0) return false;
  }
}

std::string pub(std::string_view payload) {
  std::string out = "PUB bench " + std::to_string(payload.size()) + "\r\n";
  out.append(payload);
  out += "\r\n";
  return out;
}

// The next message's payload; answers the server's PINGs on the way.
std::optional<std::string> next_message(tcp_stream& c) {
  for (;;) {
    const auto line = c.read_line();
    if (!line) return std::nullopt;
    if (*line == "PING") {
      if (!c.write_all("PONG\r\n")) return std::nullopt;
      continue;
    }
    if (line->rfind("MSG ", 0) != 0) continue;  // +OK, PONG, INFO updates
    const auto size = std::stoul(line->substr(line->rfind(' ') + 1));
    auto payload = c.read_exact(size);
    if (!payload || !c.read_line()) return std::nullopt;
    return payload;
  }
}

}  // namespace

std::optional<path_numbers> measure_nats(const std::string& exe, const std::filesystem::path& dir,
                                         const workload& w) {
  const auto port = free_port();
  std::filesystem::create_directories(dir);
  child_process server(
      exe, {"-a", "127.0.0.1", "-p", std::to_string(port), "-l", (dir / "nats.log").string()});
  if (!await_listening(port, std::chrono::seconds(10))) {
    std::fprintf(stderr, "sluice-bench bridge: nats-server did not start (%s)\n", exe.c_str());
    return std::nullopt;
  }
  path_numbers n;
  std::vector<double> loaded;
  loaded.reserve(w.messages);
  {
    tcp_stream publisher(port);
    tcp_stream subscriber(port);
    if (!publisher.ok() || !subscriber.ok() || !handshake(subscriber, "SUB bench 1\r\n") ||
        !handshake(publisher, ""))
      return std::nullopt;
    // The subscriber reads on its own thread and stops after a quiet spell (lost messages).
    std::atomic<std::size_t> got{0};
    std::atomic<std::uint64_t> last{0};
    std::atomic<bool> done{false};
    std::thread reader([&] {
      while (got < w.messages) {
        const auto m = next_message(subscriber);
        if (!m) break;
        const auto t = now_ns();
        loaded.push_back(static_cast<double>(t - stamp_of(*m)) / 1e3);
        last = t;
        ++got;
      }
      done = true;
    });
    const auto start = now_ns();
    std::string batch;
    for (std::size_t sent = 0; sent < w.messages;) {
      batch.clear();
      const std::size_t k = std::min(write_batch, w.messages - sent);
      for (std::size_t i = 0; i < k; ++i) batch += pub(stamped(now_ns(), w.payload));
      if (!publisher.write_all(batch)) break;
      sent += k;
    }
    // Waits for the subscriber, or for a quiet spell after which the rest counts as lost.
    auto seen = got.load();
    auto quiet_since = std::chrono::steady_clock::now();
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (got != seen) {
        seen = got;
        quiet_since = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - quiet_since > quiet_end) {
        break;
      }
    }
    const bool finished = done;
    if (!finished) {
      server.stop();  // the reader's connection closes and it returns
    }
    reader.join();
    n.lost = w.messages - got;
    n.msgs_per_s = static_cast<double>(got) / (static_cast<double>(last - start) / 1e9);
    n.loaded_p50_us = percentile(loaded, 0.5);
    if (!finished) return n;
  }

  // One at a time, on fresh connections.
  tcp_stream publisher(port);
  tcp_stream subscriber(port);
  if (!handshake(subscriber, "SUB bench 1\r\n") || !handshake(publisher, "")) return n;
  std::vector<double> lat;
  for (std::size_t i = 0; i < w.samples; ++i) {
    if (!publisher.write_all(pub(stamped(now_ns(), w.payload)))) break;
    const auto m = next_message(subscriber);
    if (!m) break;
    lat.push_back(static_cast<double>(now_ns() - stamp_of(*m)) / 1e3);
  }
  n.p50_us = percentile(lat, 0.5);
  n.p99_us = percentile(lat, 0.99);
  return n;
}

}  // namespace sluice::bench
