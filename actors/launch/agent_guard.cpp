// The guard: one small process per agent, between the launcher and the agent, so that
// nothing an agent starts outlives the agent or the launcher, however the launcher dies.
//
// Why a guard per agent, and not process groups, a cgroup or a PID namespace:
// - A SIGKILLed launcher runs no code, so whatever kills the agent's descendants must already
//   be running, or be the kernel. A parent-death signal reaches only direct children.
// - Process groups are not enough: any descendant can setsid() or setpgid() out of its group.
// - A per-launch cgroup v2 (cgroup.kill) needs a writable, delegated cgroup subtree: root on a
//   host with the unified hierarchy, or a systemd delegation; containers often mount it
//   read-only or hybrid, and an unprivileged user (`setpriv --reuid=nobody`) has none. Someone
//   must still write cgroup.kill once the launcher is dead, i.e. a watcher process anyway.
// - A PID namespace needs CAP_SYS_ADMIN or a user namespace, and would give agents pids that
//   the rest of the bus cannot check: inbox crash recovery asks the kernel whether a
//   claimant's pid is alive, so every process of a bus must share one PID namespace.
// - A child subreaper (PR_SET_CHILD_SUBREAPER) needs no privilege and no kernel option: every
//   descendant whose parent dies is re-parented to it, setsid() or not, so it can always find
//   and kill them. It must be an ancestor of the agent that outlives the launcher, so it sits
//   between the two. One per agent keeps the launcher's side plain: the guard is the
//   launcher's child, exits with its agent's exit status and is waited for through a pidfd,
//   and an agent's leftovers die when that agent ends (a restart does not pile them up).
//
// Life of a guard: forked by the launcher, it closes everything it inherited, becomes a
// subreaper, opens a pidfd on the launcher, forks the agent and reports its pid. Then it
// waits on a signalfd and the launcher's pidfd:
// - signals from the launcher are relayed to the agent's process group (and to descendants
//   re-parented to the guard outside it), except the kill signal (child_setup::kill_signal),
//   which means kill everything; signals from anyone else are ignored (a terminal's Ctrl-C
//   is for the launcher, which decides how to stop);
// - the launcher's pidfd becoming readable means it died: kill everything;
// - the agent ending: kill everything left (its group, and every descendant re-parented to
//   the guard), then exit the way the agent did (same code, or the same signal).
// "Kill everything" is SIGKILL to the agent's group, then rounds of SIGKILL to every child of
// the guard and reaping one, until it has no children left: a descendant whose parent is
// killed is re-parented to the guard before that parent can be reaped, so when the guard has
// no children, no descendant is left. Descendants the guard may not signal (a setuid program
// run by an unprivileged agent) are left alone rather than waited for forever.
//
// A guard is a copy of the launcher that never execs: async-signal-safe calls only (see
// runtime/spawn_child.hpp).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "actors/launch/spawn_child.hpp"

namespace sluice::actors::detail {

namespace {

// Closes every fd >= 3 except those in keep (-1 entries ignored).
bool close_all_but(int a, int b, int c) noexcept {
  int keep[3] = {a, b, c};
  for (int i = 0; i < 3; ++i)  // sort three ints
    for (int j = i + 1; j < 3; ++j)
      if (keep[j] < keep[i]) {
        const int t = keep[i];
        keep[i] = keep[j];
        keep[j] = t;
      }
  unsigned from = 3;
  for (int k : keep) {
    if (k < 0 || static_cast<unsigned>(k) < from) continue;
    if (static_cast<unsigned>(k) > from &&
        ::syscall(SYS_close_range, from, static_cast<unsigned>(k) - 1, 0U) != 0)
      return false;
    from = static_cast<unsigned>(k) + 1;
  }
  return ::syscall(SYS_close_range, from, ~0U, 0U) == 0;
}

// Parses decimal pids separated by anything else, across reads of `fd`.
int parse_pids(int fd, pid_t* out, int max) noexcept {
  char buf[512];
  int count = 0;
  long value = -1;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    for (ssize_t i = 0; i < n; ++i) {
      const char ch = buf[i];
      if (ch >= '0' && ch <= '9') {
        value = (value < 0 ? 0 : value * 10) + (ch - '0');
        continue;
      }
      if (value > 0) {
        if (count < max) out[count] = static_cast<pid_t>(value);
        ++count;
      }
      value = -1;
    }
    if (n == 0) break;
  }
  if (value > 0) {
    if (count < max) out[count] = static_cast<pid_t>(value);
    ++count;
  }
  return count;
}

// The parent pid in /proc/<pid>/stat ("pid (comm) state ppid ..."; comm may hold spaces and
// parentheses, so the fields start after the last ')'), or -1.
pid_t parent_of(const char* pid_text) noexcept {
  char path[64] = "/proc/";
  std::size_t len = 6;
  for (const char* p = pid_text; *p && len < sizeof path - 6; ++p) path[len++] = *p;
  for (const char* p = "/stat"; *p; ++p) path[len++] = *p;
  path[len] = '\0';
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf - 1)) < 0 && errno == EINTR) {
  }
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char* close_paren = nullptr;
  for (const char* p = buf; *p; ++p)
    if (*p == ')') close_paren = p;
  if (!close_paren) return -1;
  const char* p = close_paren + 1;
  while (*p == ' ') ++p;
  if (*p == '\0') return -1;
  ++p;  // the state letter
  while (*p == ' ') ++p;
  long ppid = 0;
  if (*p < '0' || *p > '9') return -1;
  for (; *p >= '0' && *p <= '9'; ++p) ppid = ppid * 10 + (*p - '0');
  return static_cast<pid_t>(ppid);
}

}  // namespace

int list_children_by_scan(pid_t* out, int max) noexcept {
  const int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  const pid_t self = ::getpid();
  int count = 0;
  alignas(8) char buf[4096];
  for (;;) {
    const ssize_t n = ::getdents64(dir, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      count = -1;
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buf + off);
      off += entry->d_reclen;
      const char* name = entry->d_name;
      bool numeric = *name != '\0';
      for (const char* p = name; *p; ++p) numeric = numeric && *p >= '0' && *p <= '9';
      if (!numeric || parent_of(name) != self) continue;
      long pid = 0;
      for (const char* p = name; *p; ++p) pid = pid * 10 + (*p - '0');
      if (count < max) out[count] = static_cast<pid_t>(pid);
      ++count;
    }
  }
  ::close(dir);
  return count;
}

int list_children(pid_t* out, int max) noexcept {
  const int fd = ::open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return list_children_by_scan(out, max);
  const int count = parse_pids(fd, out, max);
  ::close(fd);
  return count;
}

namespace {

struct guard_state {
  pid_t launcher;
  pid_t agent;
  int kill_signal;
  bool agent_reaped = false;
  siginfo_t agent_status{};
};

void note_reaped(guard_state& g, const siginfo_t& info) noexcept {
  if (info.si_pid != g.agent) return;
  g.agent_reaped = true;
  g.agent_status = info;
}

// SIGKILL to the agent's group and to every descendant, until none is left (see the top).
void kill_everything(guard_state& g) noexcept {
  // Until the agent is reaped its pid, and so its group id, cannot name anyone else.
  if (!g.agent_reaped) ::kill(-g.agent, SIGKILL);
  constexpr int batch = 256;
  pid_t children[batch];
  for (;;) {
    const int found = list_children(children, batch);
    if (found < 0) {
      // /proc unreadable: the agent at least, which is our child.
      if (!g.agent_reaped) {
        ::kill(g.agent, SIGKILL);
        siginfo_t info{};
        while (::waitid(P_PID, static_cast<id_t>(g.agent), &info, WEXITED) != 0 && errno == EINTR) {
        }
        note_reaped(g, info);
      }
      return;
    }
    if (found == 0) return;
    int killed = 0;
    for (int i = 0; i < found && i < batch; ++i)
      if (::kill(children[i], SIGKILL) == 0) ++killed;  // a child: unreaped, so still ours
    if (killed == 0) return;                            // only children we may not signal are left
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED) != 0) {
      if (errno == EINTR) continue;
      return;  // ECHILD: nothing left
    }
    note_reaped(g, info);
  }
}

// Exits the way the agent did: the same code, or killed by the same signal (without a core
// dump of our own).
[[noreturn]] void end_like_agent(const guard_state& g) noexcept {
  if (!g.agent_reaped) ::_exit(127);
  const siginfo_t& st = g.agent_status;
  if (st.si_code == CLD_EXITED) ::_exit(st.si_status);
  const int sig = st.si_status;
  const rlimit no_core{0, 0};
  (void)::setrlimit(RLIMIT_CORE, &no_core);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  (void)::sigaction(sig, &dfl, nullptr);
  (void)::kill(::getpid(), sig);  // pending: every signal is blocked here
  sigset_t just;
  sigemptyset(&just);
  sigaddset(&just, sig);
  (void)::sigprocmask(SIG_UNBLOCK, &just, nullptr);
  ::_exit(128 + sig);  // a signal whose default is not to terminate
}

// Relays a signal to the agent's group, to the agent itself if it has left the group, and to
// the descendants re-parented to us outside that group (a daemon that double-forked and called
// setsid), so a stop's SIGTERM reaches them before the SIGKILL that follows the agent's end.
// Descendants outside the group whose parent still lives get only that SIGKILL.
void relay(const guard_state& g, int sig) noexcept {
  if (g.agent_reaped) return;
  ::kill(-g.agent, sig);
  if (::getpgid(g.agent) != g.agent) ::kill(g.agent, sig);
  constexpr int batch = 256;
  pid_t children[batch];
  const int found = list_children(children, batch);
  for (int i = 0; i < found && i < batch; ++i)
    if (children[i] != g.agent && ::getpgid(children[i]) != g.agent) ::kill(children[i], sig);
}

[[noreturn]] void watch(guard_state& g, int signals, int launcher_fd) noexcept {
  pollfd fds[2] = {{signals, POLLIN, 0}, {launcher_fd, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR cannot happen (all signals blocked)
    if (fds[1].revents != 0) {
      kill_everything(g);  // the launcher died
      end_like_agent(g);
    }
    signalfd_siginfo si{};
    while (::read(signals, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      const int sig = static_cast<int>(si.ssi_signo);
      const bool from_launcher =
          si.ssi_code == SI_USER && static_cast<pid_t>(si.ssi_pid) == g.launcher;
      if (sig == SIGCHLD || !from_launcher) continue;
      if (sig == g.kill_signal) {
        kill_everything(g);
        end_like_agent(g);
      }
      relay(g, sig);
    }
    // Children that ended: the agent ends the guard; others (descendants re-parented to us)
    // are reaped. Peek first (WNOWAIT): the agent must stay unreaped until its group is
    // killed, so that its pid cannot have been reused by then.
    for (;;) {
      siginfo_t info{};
      if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) break;
      if (info.si_pid == g.agent) {
        kill_everything(g);
        end_like_agent(g);
      }
      siginfo_t reaped{};
      (void)::waitid(P_PID, static_cast<id_t>(info.si_pid), &reaped, WEXITED);
    }
  }
}

}  // namespace

void run_guard(const child_setup& c) noexcept {
  // Every signal is blocked (the spawner blocked them across fork) and read from a signalfd.
  if (!close_all_but(c.report, c.out, c.err)) fail_child(c.report);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  // An ignored SIGCHLD would have the kernel reap our children behind our back.
  if (::sigaction(SIGCHLD, &dfl, nullptr) != 0) fail_child(c.report);
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail_child(c.report);
  (void)::prctl(PR_SET_NAME, "sluice-guard");  // what ps/top show for it
  // A pidfd, not a parent-death signal: that one fires when the spawning *thread* ends,
  // this only when the whole launcher process has.
  const int launcher_fd = static_cast<int>(::syscall(SYS_pidfd_open, c.parent, 0));
  if (launcher_fd < 0) fail_child(c.report);
  // Opened before this check, so if the launcher is still our parent the pidfd names it.
  if (::getppid() != c.parent) ::_exit(127);
  // Own group, so that a terminal's Ctrl-C for the launcher's group does not reach us.
  if (::setpgid(0, 0) != 0) fail_child(c.report);
  sigset_t all;
  sigfillset(&all);
  const int signals = ::signalfd(-1, &all, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signals < 0) fail_child(c.report);

  child_setup agent_setup = c;
  agent_setup.parent = ::getpid();
  // _Fork: no atfork handlers, which may take locks that the launcher's other threads held
  // when we were forked.
  const pid_t agent = ::_Fork();
  if (agent < 0) fail_child(c.report);
  if (agent == 0) {
    ::close(launcher_fd);
    ::close(signals);
    run_child(agent_setup);
  }
  const spawn_record r{spawn_record::agent_pid, static_cast<int>(agent)};
  (void)!::write(c.report, &r, sizeof r);
  ::close(c.report);
  if (c.out >= 0) ::close(c.out);
  if (c.err >= 0) ::close(c.err);
  guard_state g{c.parent, agent, c.kill_signal};
  watch(g, signals, launcher_fd);
}

}  // namespace sluice::actors::detail
