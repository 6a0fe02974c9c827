#pragma once
// sluice-bench bridge: the ways of moving a message from one producer to one consumer that it
// compares (a local inbox, two sluice bridges, Redis, NATS), each measured the same way:
// throughput from the first send to the last receipt with the consumer draining as it goes,
// and one-way latency one message at a time (the next is sent once the previous arrived),
// stamped with the steady clock of this one process.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "inbox/inbox.hpp"

namespace sluice::bench {

struct path_numbers {
  double msgs_per_s = 0;
  double loaded_p50_us = -1;  // latency while the throughput run is on; -1: not measured
  double p50_us = -1;         // one at a time
  double p99_us = -1;
  std::uint64_t lost = 0;  // sent but never received (NATS drops for slow consumers)
};

struct workload {
  std::size_t messages = 200000;  // per throughput run
  std::size_t payload = 256;
  std::size_t samples = 2000;  // one-at-a-time latency samples
};

std::uint64_t now_ns();
double percentile(std::vector<double> v, double q);
// A payload of `size` bytes (at least 24) starting with the decimal stamp and a space.
std::string stamped(std::uint64_t stamp, std::size_t size);
// The stamp at the start of a payload; 0 if there is none.
std::uint64_t stamp_of(std::string_view payload);

// A program of another package the bench starts (redis-server, nats-server), or a sluice
// bridge. Stopped with SIGTERM and reaped when the object goes.
class child_process {
 public:
  child_process() = default;
  child_process(const std::string& exe, std::vector<std::string> args,
                std::vector<std::string> env = {});
  child_process(child_process&& o) noexcept;
  child_process& operator=(child_process&& o) noexcept;
  ~child_process();
  [[nodiscard]] bool running() const { return pid_ > 0; }
  // One line of its stdout (without '\n'), or nullopt at EOF or after the timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  void stop();

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

// The first executable called `name` in PATH or the sbin directories; empty when none.
std::string find_program(const std::string& name);
// The first line a program prints for --version (or `flag`), for the report.
std::string version_of(const std::string& exe, const std::string& flag = "--version");
// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_port();
// Waits until something accepts connections on 127.0.0.1:port.
bool await_listening(std::uint16_t port, std::chrono::milliseconds timeout);

// Throughput and one-at-a-time latency from a producer thread pushing into dest to a consumer
// popping from sink (through whatever carries messages from one to the other); with remote,
// each payload is wrapped in the envelope for agent "far".
std::optional<path_numbers> measure_inboxes(inbox::inbox& dest, inbox::inbox& sink, bool remote,
                                            const workload& w);

// The paths. Each returns nullopt (with a line on stderr) when it cannot run here.
std::optional<path_numbers> measure_local_inbox(const std::filesystem::path& dir,
                                                const workload& w);
struct bridge_setup {
  std::string sluice;                 // the sluice executable
  std::filesystem::path dir;          // a scratch directory for both buses
  std::vector<std::string> east_tls;  // --tls-* flags, or empty
  std::vector<std::string> west_tls;
};
std::optional<path_numbers> measure_bridge(const bridge_setup& s, const workload& w);
// Two bare relay processes in place of the bridges (relay_path.cpp): the floor under the bridge.
std::optional<path_numbers> measure_bare_relay(const std::filesystem::path& dir, const workload& w);
// Makes a CA and two certificates with the openssl command; empty flags when it cannot.
bool make_bridge_certs(const std::filesystem::path& dir, bridge_setup& s);

struct redis_numbers {
  path_numbers lpush_only;  // pipelined LPUSH from one client, nobody consuming
  path_numbers lpush_brpop;
};
std::optional<redis_numbers> measure_redis(const std::string& exe, const std::filesystem::path& dir,
                                           const workload& w);
std::optional<path_numbers> measure_nats(const std::string& exe, const std::filesystem::path& dir,
                                         const workload& w);

// How the Redis and NATS paths are set up, for the report.
extern const char* const redis_setup_note;
extern const char* const nats_setup_note;

}  // namespace sluice::bench
