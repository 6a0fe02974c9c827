#pragma once
// Agent processes for `sluice launch` (docs/architecture.md section 6): fork and exec, signal and
// reap through a pidfd (a recycled pid can never be hit), and a watcher thread that waits on every
// child's pidfd and output pipes with one epoll set — no polling, no SIGCHLD handler — and hands
// out whole output lines and exit statuses.
//
// An agent is a process group: each child leads its own group (so a terminal's Ctrl-C
// reaches launch only, and launch decides how to stop), signals go to the whole group (a
// bash agent's `sluice recv --follow | while read` pipeline stops with it).
//
// Nothing an agent starts outlives it or its launcher (contain_descendants, the default):
// the child is a small guard process (runtime/agent_guard.cpp; why a guard and not process
// groups, a cgroup or a PID namespace is explained there) that forks the agent and is a child
// subreaper, so every descendant of the agent, even one that called setsid(), stays within
// its reach. When the agent ends, the guard SIGKILLs whatever the agent left running and
// exits with the agent's status; when the launcher dies, even by SIGKILL, the guard sees its
// pidfd become readable and SIGKILLs the agent and every descendant. Signals for the agent
// go through the guard, which relays them to the agent's group (SIGKILL: kills everything).
// The agent itself also gets SIGKILL when its guard dies (parent-death signal).
//
// Unguarded (contain_descendants = false, for a test that runs `sluice launch` itself and
// must not be the subreaper of what it tests) the child is the agent, armed with
// PR_SET_PDEATHSIG (SIGKILL), which Linux sends when the *thread* that spawned it ends; its
// own children are not covered, but whatever is left of its group is killed when it exits.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/result.hpp"

namespace sluice::actors {

struct spawn_options {
  std::filesystem::path executable;  // absolute, or relative to the current directory
  std::vector<std::string> argv;     // argv[0] included
  std::vector<std::pair<std::string, std::string>> env;  // set on top of the inherited env
  std::filesystem::path cwd;                             // empty: inherit
  bool capture_output = true;                            // stdout/stderr to pipes (else inherited)
  bool contain_descendants = true;  // run under a guard (see the top); false: a plain child
};

struct exit_status {
  bool exited = false;  // true: normal exit with `code`; false: killed by `signal`
  int code = 0;
  int signal = 0;
  bool success() const noexcept { return exited && code == 0; }
};
// "exit 0", "exit 3", "killed by SIGKILL"
std::string describe(const exit_status&);

class child_process {
 public:
  // Spawns the child in its own process group with a default signal mask and dispositions,
  // stdin from /dev/null, under a guard (or killed when the calling thread ends, unguarded).
  // Errors name the executable and the OS reason (a failed exec included). Returns once the
  // child has exec'd (a close-on-exec pipe tells), so a concurrent fork elsewhere in this
  // process that never execs holds it.
  static runtime::result<child_process> spawn(const spawn_options& opts);

  child_process(child_process&&) noexcept;
  child_process& operator=(child_process&&) noexcept;
  // Kills (SIGKILL, with everything it started) and reaps a child that is still running:
  // no zombie, no orphan.
  ~child_process();

  // The agent's pid (not its guard's).
  pid_t pid() const noexcept { return pid_; }
  // Readable once the child is over: for a guarded child, once the agent and everything it
  // started have ended.
  int pidfd() const noexcept { return pidfd_; }
  bool reaped() const noexcept { return reaped_; }

  // Signals the agent's process group (SIGKILL: and every descendant, if guarded); false
  // once the child has been reaped (then there is nothing left to signal) or when the OS
  // refuses. A guarded child cannot be sent SIGSTOP or SIGRTMAX (the guard's kill signal).
  bool signal_group(int sig) noexcept;

  // Non-blocking reap; empty while the child runs. After success the status is kept.
  std::optional<exit_status> try_reap() noexcept;
  // Blocking reap.
  exit_status reap() noexcept;

  // Output pipes (read ends, non-blocking), -1 when not captured; released to the watcher.
  int take_stdout() noexcept { return std::exchange(out_fd_, -1); }
  int take_stderr() noexcept { return std::exchange(err_fd_, -1); }

 private:
  child_process() = default;
  void close_all() noexcept;

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool guarded_ = false;
  bool reaped_ = false;
  exit_status status_;
};

// Splits a byte stream into lines. A line longer than max_line is cut into pieces of
// max_line (an agent that never writes '\n' still gets its output shown).
class line_splitter {
 public:
  explicit line_splitter(std::size_t max_line = 64 * 1024) : max_line_(max_line) {}
  // Calls emit(line) for every complete line in data (without the '\n').
  void feed(std::string_view data, const std::function<void(std::string_view)>& emit);
  // Emits what is left without a trailing newline (at end of stream).
  void finish(const std::function<void(std::string_view)>& emit);

 private:
  std::size_t max_line_;
  std::string partial_;
};

enum class output_stream { out, err };

// One thread, one epoll set, any number of children. For each child: on_line for every
// output line (in order per stream), then exactly one on_exit after the child was reaped
// and its pipes are drained (or a short grace passed, if something outside the group keeps
// them open). Callbacks run on the watcher thread; they must not block for long.
class process_watcher {
 public:
  using child_id = std::uint64_t;
  struct callbacks {
    std::function<void(output_stream, std::string_view line)> on_line;
    std::function<void(const exit_status&)> on_exit;
  };

  process_watcher();
  ~process_watcher();  // stops the thread; children still running are killed and reaped
  process_watcher(const process_watcher&) = delete;
  process_watcher& operator=(const process_watcher&) = delete;

  // Takes the child; returns an id for signal().
  child_id watch(child_process child, callbacks cb);
  // Signals the child's process group; false when it is gone (or the id is unknown).
  bool signal(child_id id, int sig);
  // Also watch a signalfd for these signals (blocked by the caller in every thread);
  // on_signal runs on the watcher thread.
  void watch_signals(const std::vector<int>& signals, std::function<void(int)> on_signal);

  struct impl;

 private:
  std::unique_ptr<impl> p_;
};

}  // namespace sluice::actors
