#pragma once
// Runs the real `sluice` executable the way a shell would: arguments, environment, stdin,
// and captures stdout, stderr and the exit code. Every test gets its own bus directory and a
// clean environment (no MAX_INBOX_SIZE or SLUICE_DIR leaking in from the developer's shell).
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::test {

struct run_result {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

using env_map = std::map<std::string, std::string>;

// A started process with pipes on stdin, stdout and stderr (or the fds given instead).
class process {
 public:
  struct options {
    std::vector<std::string> argv;  // argv[0] is the program path
    env_map env;                    // the whole environment
    int stdin_fd = -1;              // >= 0: use this fd as stdin instead of a pipe
    int stdout_fd = -1;             // >= 0: use this fd as stdout (then out is not captured)
  };
  explicit process(const options& opts);
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  ~process();  // kills and reaps a process that was not waited for

  pid_t pid() const { return pid_; }
  // Reads stdout until one whole line arrived (returned without '\n') or the deadline.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  void signal(int sig);
  // Writes `input` to stdin (then closes it), drains stdout/stderr, and reaps the process.
  // A process still running after `timeout` is killed (exit_code then says which signal).
  run_result finish(const std::string& input = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_buf_;
  std::string err_buf_;
};

// A private bus for one test: a temp directory with the bus in <root>/bus, HOME and
// XDG_CONFIG_HOME inside root so no user configuration is read.
class bus_fixture {
 public:
  bus_fixture();
  ~bus_fixture();
  bus_fixture(const bus_fixture&) = delete;
  bus_fixture& operator=(const bus_fixture&) = delete;

  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path inbox_file(const std::string& agent) const;

  // The environment every run gets; tests add or override entries here.
  env_map env;

  // sluice <args...> with stdin = input; waits for it.
  run_result run(const std::vector<std::string>& args, const std::string& input = {}) const;
  // Same, with extra environment entries for this run only.
  run_result run_env(const env_map& extra, const std::vector<std::string>& args,
                     const std::string& input = {}) const;
  // Starts sluice <args...> and returns without waiting.
  process start(const std::vector<std::string>& args) const;
  process::options options_for(const std::vector<std::string>& args) const;

 private:
  std::filesystem::path root_;
  std::filesystem::path dir_;
};

// Whether `pid` has ended: /proc has no entry for it, or it is a zombie nobody reaped yet.
bool process_gone(pid_t pid);

// Paths of the executables under test (set by CMake).
const char* sluice_path();
// An executable built beside sluice: sluice-launch, sluice-bridge, ...
std::string sluice_executable_path(std::string_view name);

}  // namespace sluice::test
