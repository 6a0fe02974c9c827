#include "cli/leased_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace sluice::cli {

namespace {

constexpr int passed_on[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

std::atomic<pid_t> command_pid{0};
std::atomic<int> early_signal{0};  // came before the command's pid was known

void pass_on(int sig, siginfo_t* info, void*) {
  // SI_USER/SI_QUEUE: sent to us by a process. A terminal's signal (SI_KERNEL) went to the
  // whole foreground group, the command included.
  if (info->si_code != SI_USER && info->si_code != SI_QUEUE) return;
  const pid_t child = command_pid.load();
  if (child > 0) {
    (void)::kill(child, sig);
  } else {
    early_signal.store(sig);
  }
}

struct passing_on_signals {
  struct sigaction previous[sizeof passed_on / sizeof *passed_on]{};
  passing_on_signals() noexcept {
    struct sigaction sa {};
    sa.sa_sigaction = pass_on;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (std::size_t i = 0; i < std::size(passed_on); ++i)
      (void)::sigaction(passed_on[i], &sa, &previous[i]);
  }
  ~passing_on_signals() {
    for (std::size_t i = 0; i < std::size(passed_on); ++i)
      (void)::sigaction(passed_on[i], &previous[i], nullptr);
    command_pid.store(0);
  }
  passing_on_signals(const passing_on_signals&) = delete;
  passing_on_signals& operator=(const passing_on_signals&) = delete;
};

[[noreturn]] void exec_command(char* const* argv, pid_t parent, int report) noexcept {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && ::getppid() == parent) {
    ::execvp(argv[0], argv);  // which puts pass_on's signals back to their defaults
  }
  const int err = errno;
  (void)!::write(report, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

command_outcome run_leased_command(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const auto& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return {126, errno};
  passing_on_signals signals;
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child == 0) exec_command(argv.data(), parent, report[1]);
  const int fork_errno = errno;
  ::close(report[1]);
  if (child < 0) {
    ::close(report[0]);
    return {126, fork_errno};
  }
  command_pid.store(child);
  if (const int sig = early_signal.exchange(0)) (void)::kill(child, sig);
  int exec_errno = 0;
  ssize_t n = 0;
  while ((n = ::read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof exec_errno))
    return {exec_errno == ENOENT ? 127 : 126, exec_errno};
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), 0};
}

}  // namespace sluice::cli
