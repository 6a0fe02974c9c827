#include "actors/launch/spawn_child.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::actors::detail {

namespace {

// The fd must end up as `target` without close-on-exec (dup2 onto itself would keep the flag).
bool move_fd(int fd, int target) noexcept {
  if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;
  return ::dup2(fd, target) == target;
}

}  // namespace

void fail_child(int report) noexcept {
  const spawn_record r{spawn_record::failed, errno};
  (void)!::write(report, &r, sizeof r);
  ::_exit(127);
}

void run_child(const child_setup& c) noexcept {
  // An agent must not outlive the process that forked it (its guard, or a launcher that runs
  // it unguarded), even one SIGKILLed that cannot stop it. SIGKILL because nobody is left to
  // escalate past an agent that ignores SIGTERM; at-least-once delivery means an uncommitted
  // batch is handed to the next consumer, not lost.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail_child(c.report);
  // The parent may have died before prctl armed the signal: then we were already
  // re-parented and would never get it.
  if (::getppid() != c.parent) ::_exit(127);
  // Own process group; a child must not inherit its spawner's blocked SIGINT/SIGTERM or any
  // handler or ignored disposition (the mask was blocked across fork so no handler of
  // the spawner's can run here before this).
  if (::setpgid(0, 0) != 0) fail_child(c.report);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    (void)::sigaction(sig, &dfl, nullptr);  // EINVAL for KILL/STOP
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail_child(c.report);

  const int null = ::open("/dev/null", O_RDONLY);
  if (null < 0 || !move_fd(null, 0)) fail_child(c.report);
  if (c.out >= 0 && (!move_fd(c.out, 1) || !move_fd(c.err, 2))) fail_child(c.report);
  // Whatever else this process has open (inbox mappings, epoll, CAF sockets) is not the
  // agent's business. Close on exec rather than now: the report pipe is still needed.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail_child(c.report);
  if (c.cwd && ::chdir(c.cwd) != 0) fail_child(c.report);
  ::execve(c.executable, c.argv, c.envp);
  fail_child(c.report);
}

}  // namespace sluice::actors::detail
