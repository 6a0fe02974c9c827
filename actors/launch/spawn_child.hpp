#pragma once
// The child side of child_process::spawn (runtime/process.cpp). It runs in a copy of a
// multithreaded process between fork and exec (and, for the guard, for the whole life of an
// agent without ever exec'ing), so only async-signal-safe calls are allowed: no allocation,
// no locks, no stdio.
#include <sys/types.h>

#include <cstddef>

namespace sluice::actors::detail {

struct child_setup {
  pid_t parent;  // the process that forked us; gone before we could watch it: exit at once
  const char* executable;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // nullptr: inherit
  int out;          // write ends of the output pipes, -1 when not captured
  int err;
  int report;       // close-on-exec pipe back to the spawner: spawn_record after spawn_record
  int kill_signal;  // guard only: the signal by which its spawner asks it to kill everything
};

// What the report pipe carries. Each record is written whole in one write (far below
// PIPE_BUF, so records from the guard and from the agent never interleave). EOF without a
// `failed` record means the agent exec'd.
struct spawn_record {
  enum kind_t : int { failed = 1, agent_pid = 2 };
  int kind;
  int value;  // errno of the step that failed, or the agent's pid
};

// Reports errno as a `failed` record and exits 127.
[[noreturn]] void fail_child(int report) noexcept;

// Becomes the agent: own process group, default signal dispositions and mask, stdin from
// /dev/null, output to the pipes, SIGKILL when `parent` dies, then exec.
[[noreturn]] void run_child(const child_setup&) noexcept;

// Becomes the agent's guard (runtime/agent_guard.cpp): forks the agent with run_child,
// reports its pid, and keeps every descendant of it from outliving either the agent or the
// guard's own parent.
[[noreturn]] void run_guard(const child_setup&) noexcept;

// The calling process's children, for a single-threaded caller (the guard): up to `max` pids
// into `out`; returns how many there are (more than `max` means call again after dealing with
// these), or -1 when /proc cannot be read. Reads /proc/thread-self/children and, on kernels
// built without it (CONFIG_PROC_CHILDREN), scans /proc for processes whose parent we are.
int list_children(pid_t* out, int max) noexcept;
int list_children_by_scan(pid_t* out, int max) noexcept;

}  // namespace sluice::actors::detail
