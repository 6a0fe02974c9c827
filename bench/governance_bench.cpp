// `sluice-bench governance [--json]`: what the bus policy costs (docs/architecture.md,
// governance). Targets: a policy of 16 rules adds at most 100 ns to a send; an uncontended
// C++ acquire (+ release) costs at most 200 ns. Each figure is the median of rounds.
//   gate, 16 rules, 1 matching:  send_gate::admit, 15 rules whose globs miss + one limit
//   gate, 16 rules, 16 matching: every rule takes from its limiter (16 CAS)
//   gate, no policy file:        what every send pays on a bus without policy.ctl
//   acquire + release:           try_acquire of a limit with a rate and 4 leases, then release
// Peers, measured in the same run when redis-server is on PATH (Debian: redis-server), over a
// Unix socket, one client, what users pick instead of a shared limiter:
//   redis fixed window:          INCR key + EXPIRE key 60 NX, pipelined (one round trip)
//   redis GCRA:                  EVALSHA of a GCRA script (the redis-cell / rate-limiter shape)
//   sluice fixed window take:    governance::take on a fixed_window word, the same decision
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "governance/acquire.hpp"
#include "governance/clock.hpp"
#include "governance/holder.hpp"
#include "governance/policy_file.hpp"
#include "governance/send_gate.hpp"
#include "governance/store.hpp"

namespace sluice::bench {
namespace {

namespace gov = sluice::governance;
constexpr int batch = 1000;

class scratch_dir {
 public:
  scratch_dir() {
    std::string tmpl = "/dev/shm/sluice-governance-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp in /dev/shm failed");
    dir_ = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

gov::store apply_policy(const std::filesystem::path& dir, const std::string& text) {
  auto p = gov::parse_policy(text, "bench.toml");
  if (!p.value) throw std::runtime_error(p.errors.front());
  auto s = gov::store::open_or_create(dir);
  if (!s) throw std::runtime_error(s.err().message);
  if (!s.value().apply(*p.value, "bench.toml")) throw std::runtime_error("apply failed");
  return std::move(s.value());
}

// A minimal RESP client: enough for INCR, EXPIRE, SCRIPT LOAD and EVALSHA replies.
class redis_peer {
 public:
  explicit redis_peer(const std::filesystem::path& dir)
      : sock_path_((dir / "redis.sock").string()) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) {
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
      }
      ::execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock_path_.c_str(),
               "--save", "", "--appendonly", "no", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500 && fd_ < 0; ++i) {
      ::usleep(10000);
      const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_path_.c_str());
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
        fd_ = fd;
      else
        ::close(fd);
    }
  }
  ~redis_peer() {
    if (fd_ >= 0) ::close(fd_);
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool up() const { return fd_ >= 0; }
  static std::string command(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
  }
  // Sends `wire` and reads `replies` replies; returns the last one's first line.
  std::string call(const std::string& wire, int replies) {
    if (::write(fd_, wire.data(), wire.size()) != static_cast<ssize_t>(wire.size()))
      throw std::runtime_error("redis write failed");
    std::string last;
    for (int i = 0; i < replies; ++i) last = read_reply();
    return last;
  }

 private:
  std::string read_line() {
    for (;;) {
      const auto nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        return line;
      }
      char tmp[4096];
      const ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) throw std::runtime_error("redis read failed");
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }
  std::string read_reply() {
    std::string line = read_line();
    if (!line.empty() && line[0] == '-') throw std::runtime_error("redis: " + line);
    if (!line.empty() && line[0] == '$' && line != "$-1") return read_line();
    if (!line.empty() && line[0] == '*') {
      const int n = std::stoi(line.substr(1));
      std::string first;
      for (int i = 0; i < n; ++i) {
        auto r = read_reply();
        if (i == 0) first = r;
      }
      return first;
    }
    return line;
  }
  std::string sock_path_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buf_;
};

// GCRA as users write it for Redis: one key holds the theoretical arrival time (ms).
constexpr const char* gcra_script = R"(
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
if tat < now then tat = now end
local new_tat = tat + emission
if new_tat - tolerance > now then return 0 end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(tolerance + emission))
return 1
)";

bool on_path(const char* exe) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string p = path;
  std::size_t start = 0;
  while (start <= p.size()) {
    const auto end = p.find(':', start);
    const std::string dir =
        p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && ::access((dir + "/" + exe).c_str(), X_OK) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

template <class F>
double median_ns(int rounds, F&& f) {
  std::vector<double> v;
  for (int r = 0; r < rounds; ++r) {
    const std::int64_t t0 = gov::monotonic_ns();
    for (int i = 0; i < batch; ++i) f();
    v.push_back(static_cast<double>(gov::monotonic_ns() - t0) / batch);
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string sixteen_rules(bool all_match) {
  std::string text;
  for (int i = 0; i < 16; ++i) {
    text += "[[rule]]\nname = \"r" + std::to_string(i) + "\"\n";
    text += all_match || i == 15 ? "from = \"worker-*\"\n"
                                 : "from = \"other-" + std::to_string(i) + "-*\"\n";
    text +=
        "to = \"coordinator\"\naction = \"limit\"\nrate = \"1000000000/s\"\nburst = 1000000\n\n";
  }
  return text;
}

int run_governance(int argc, char** argv) {
  CLI::App app{"Governance cost: policy per send, uncontended acquire", "sluice-bench governance"};
  bool json = false;
  int rounds = 200;
  app.add_flag("--json", json, "print one JSON object instead of the table");
  app.add_option("--rounds", rounds, "rounds of 1000 calls each")->check(CLI::Range(3, 100000));
  CLI11_PARSE(app, argc, argv);

  const backpressure::admission_request q{"worker-3", "coordinator", "task",
                                          inbox::priority::normal};
  double one_match = 0, all_match = 0, no_policy = 0, acquire = 0;
  {
    scratch_dir d;
    auto s = apply_policy(d.dir(), sixteen_rules(false));
    gov::send_gate gate(d.dir());
    one_match = median_ns(rounds, [&] { (void)gate.admit(q, gov::monotonic_ns()); });
  }
  {
    scratch_dir d;
    auto s = apply_policy(d.dir(), sixteen_rules(true));
    gov::send_gate gate(d.dir());
    all_match = median_ns(rounds, [&] { (void)gate.admit(q, gov::monotonic_ns()); });
  }
  {
    scratch_dir d;
    gov::send_gate gate(d.dir());
    no_policy = median_ns(rounds, [&] { (void)gate.admit(q, gov::monotonic_ns()); });
  }
  {
    scratch_dir d;
    auto s = apply_policy(
        d.dir(),
        "[[limit]]\nname = \"llm\"\nrate = \"1000000000/s\"\nburst = 1000000\nconcurrency = 4\n");
    const auto* p = s.current().value();
    gov::acquire_request r{"llm", 1, "bench", *gov::holder_word(::getpid())};
    acquire = median_ns(rounds, [&] {
      auto a = gov::try_acquire(s.raw(), *p, r, gov::monotonic_ns(), gov::realtime_ns());
      gov::release_lease(s.raw(), *p, a.lease);
    });
  }
  double sluice_fixed = 0;
  {
    const gov::limiter_spec spec{gov::algorithm::fixed_window, 1'000'000'000, 60'000'000'000, 1};
    std::atomic<std::uint64_t> word{0};
    sluice_fixed = median_ns(rounds, [&] { (void)gov::take(word, spec, gov::monotonic_ns(), 1); });
  }
  std::optional<double> redis_fixed, redis_gcra;
  if (on_path("redis-server")) {
    scratch_dir d;
    redis_peer redis(d.dir());
    if (redis.up()) {
      const int redis_rounds = std::max(3, rounds / 10);
      const std::string incr = redis_peer::command({"INCR", "rl:fixed"}) +
                               redis_peer::command({"EXPIRE", "rl:fixed", "60", "NX"});
      redis_fixed = median_ns(redis_rounds, [&] { (void)redis.call(incr, 2); });
      const std::string sha = redis.call(redis_peer::command({"SCRIPT", "LOAD", gcra_script}), 1);
      const std::string eval =
          redis_peer::command({"EVALSHA", sha, "1", "rl:gcra", "1", "1000000"});
      redis_gcra = median_ns(redis_rounds, [&] { (void)redis.call(eval, 1); });
    }
  }
  if (json) {
    nlohmann::json out{{"gate_16_rules_1_match_ns", one_match},
                       {"gate_16_rules_16_match_ns", all_match},
                       {"gate_no_policy_ns", no_policy},
                       {"acquire_release_ns", acquire},
                       {"sluice_fixed_window_take_ns", sluice_fixed}};
    if (redis_fixed) out["redis_incr_expire_ns"] = *redis_fixed;
    if (redis_gcra) out["redis_gcra_script_ns"] = *redis_gcra;
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("policy per send (send_gate::admit, median of %d rounds x %d):\n", rounds, batch);
  std::printf("  16 rules, 1 matching      %8.1f ns   (target <= 100)\n", one_match);
  std::printf("  16 rules, 16 matching     %8.1f ns\n", all_match);
  std::printf("  no policy file            %8.1f ns\n", no_policy);
  std::printf("uncontended acquire + release (rate + 4 leases):\n");
  std::printf("  try_acquire + release     %8.1f ns   (target <= 200)\n", acquire);
  std::printf("one rate decision, shared limiter vs what users pick instead:\n");
  std::printf("  sluice fixed window take  %8.1f ns\n", sluice_fixed);
  if (redis_fixed && redis_gcra) {
    std::printf("  redis INCR + EXPIRE       %8.1f ns   (Unix socket, pipelined)\n", *redis_fixed);
    std::printf("  redis GCRA script         %8.1f ns   (EVALSHA)\n", *redis_gcra);
  } else {
    std::printf(
        "  redis peers               skipped: redis-server not on PATH (scripts/setup.sh "
        "--with-tests)\n");
  }
  return 0;
}

const verb_registration reg{"governance", "policy cost per send and uncontended acquire",
                            run_governance};

}  // namespace
}  // namespace sluice::bench
