// sluice-bench bridge: Redis as a queue between one producer and one consumer, as its users
// run it: redis-server with its own defaults, a producer that pipelines LPUSH (a pipeline of
// 64 commands written at once, then their 64 replies read, as redis-py's pipeline() or
// redis-benchmark -P 64 do), and a consumer that blocks in BRPOP, one message per call.
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "bench/bridge/paths.hpp"
#include "bench/bridge/tcp_stream.hpp"

namespace sluice::bench {

const char* const redis_setup_note =
    "redis-server with its defaults (RDB snapshots as shipped, no AOF), bound to 127.0.0.1; "
    "one producer connection pipelining LPUSH 64 commands at a time, one consumer connection "
    "in BRPOP (one message per call)";

namespace {

constexpr std::size_t pipeline_depth = 64;
const std::string queue = "sluice-bench";

std::string command(std::initializer_list<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out.append(a);
    out += "\r\n";
  }
  return out;
}

// Pushes `count` stamped messages in pipelines; false when Redis stopped answering.
bool push_all(tcp_stream& c, std::size_t count, std::size_t payload) {
  std::string batch;
  for (std::size_t sent = 0; sent < count;) {
    const std::size_t n = std::min(pipeline_depth, count - sent);
    batch.clear();
    for (std::size_t i = 0; i < n; ++i)
      batch += command({"LPUSH", queue, stamped(now_ns(), payload)});
    if (!c.write_all(batch)) return false;
    for (std::size_t i = 0; i < n; ++i) {
      const auto reply = c.read_line();  // ":<length of the list>"
      if (!reply || reply->empty() || (*reply)[0] != ':') return false;
    }
    sent += n;
  }
  return true;
}

// One BRPOP: the payload, or nullopt when the connection failed.
std::optional<std::string> pop(tcp_stream& c) {
  // Blocks up to 10 s: a Redis that stopped answering ends the run instead of hanging it.
  if (!c.write_all(command({"BRPOP", queue, "10"}))) return std::nullopt;
  const auto head = c.read_line();  // "*2", then the key and the value as bulk strings
  if (!head || *head != "*2") return std::nullopt;
  std::optional<std::string> value;
  for (int i = 0; i < 2; ++i) {
    const auto len = c.read_line();
    if (!len || len->empty() || (*len)[0] != '$') return std::nullopt;
    value = c.read_exact(static_cast<std::size_t>(std::stoul(len->substr(1))));
    if (!value || !c.read_line()) return std::nullopt;
  }
  return value;
}

bool simple(tcp_stream& c, std::initializer_list<std::string_view> args) {
  return c.write_all(command(args)) && c.read_line().has_value();
}

}  // namespace

std::optional<redis_numbers> measure_redis(const std::string& exe, const std::filesystem::path& dir,
                                           const workload& w) {
  const auto port = free_port();
  std::filesystem::create_directories(dir);
  child_process server(exe, {"--port", std::to_string(port), "--bind", "127.0.0.1", "--dir",
                             dir.string(), "--logfile", (dir / "redis.log").string()});
  if (!await_listening(port, std::chrono::seconds(10))) {
    std::fprintf(stderr, "sluice-bench bridge: redis-server did not start (%s)\n", exe.c_str());
    return std::nullopt;
  }
  tcp_stream producer(port);
  tcp_stream consumer(port);
  if (!producer.ok() || !consumer.ok() || !simple(producer, {"DEL", queue})) return std::nullopt;
  redis_numbers r;

  // Pipelined LPUSH alone: the rate one client puts messages into Redis.
  auto start = now_ns();
  if (!push_all(producer, w.messages, w.payload)) return std::nullopt;
  r.lpush_only.msgs_per_s =
      static_cast<double>(w.messages) / (static_cast<double>(now_ns() - start) / 1e9);
  if (!simple(producer, {"DEL", queue})) return std::nullopt;

  // The same producer with a consumer in BRPOP: first push to last pop.
  std::vector<double> loaded;
  loaded.reserve(w.messages);
  bool ok = true;
  start = now_ns();
  std::thread pusher([&] { ok = push_all(producer, w.messages, w.payload); });
  auto last = start;
  for (std::size_t i = 0; i < w.messages; ++i) {
    const auto v = pop(consumer);
    if (!v) {
      ok = false;
      break;
    }
    last = now_ns();
    loaded.push_back(static_cast<double>(last - stamp_of(*v)) / 1e3);
  }
  pusher.join();
  if (!ok) return std::nullopt;
  r.lpush_brpop.msgs_per_s =
      static_cast<double>(w.messages) / (static_cast<double>(last - start) / 1e9);
  r.lpush_brpop.loaded_p50_us = percentile(loaded, 0.5);

  // One at a time: the consumer waits in BRPOP, the producer pushes the next message once the
  // previous one arrived.
  std::mutex m;
  std::condition_variable cv;
  std::size_t received = 0;
  std::vector<double> lat;
  std::thread popper([&] {
    for (std::size_t i = 0; i < w.samples; ++i) {
      const auto v = pop(consumer);
      std::lock_guard<std::mutex> lock(m);
      if (v) lat.push_back(static_cast<double>(now_ns() - stamp_of(*v)) / 1e3);
      ++received;
      cv.notify_all();
      if (!v) return;
    }
  });
  for (std::size_t i = 0; i < w.samples; ++i) {
    if (!simple(producer, {"LPUSH", queue, stamped(now_ns(), w.payload)})) break;
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return received > i; });
  }
  popper.join();
  r.lpush_brpop.p50_us = percentile(lat, 0.5);
  r.lpush_brpop.p99_us = percentile(lat, 0.99);
  return r;
}

}  // namespace sluice::bench
