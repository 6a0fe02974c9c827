#include "actors/launch/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "actors/launch/spawn_child.hpp"

extern char** environ;

namespace sluice::actors {

std::string describe(const exit_status& s) {
  if (s.exited) return "exit " + std::to_string(s.code);
  const char* name = sigabbrev_np(s.signal);
  return std::string("killed by SIG") + (name ? name : std::to_string(s.signal).c_str());
}

namespace {

runtime::error os_error(const std::string& what, int err) {
  return runtime::error{inbox::errc_of_errno(err), what + ": " + std::strerror(err)};
}

// How a guarded child's spawner asks its guard to kill the agent and everything it started
// (SIGKILL itself would kill only the guard). Any other signal is relayed to the agent.
int guard_kill_signal() noexcept {
  return SIGRTMAX;
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::vector<std::string> merged_environment(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    const auto key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [k, v] : overrides) overridden = overridden || k == key;
    if (!overridden) env.emplace_back(entry);
  }
  for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

runtime::result<child_process> child_process::spawn(const spawn_options& opts) {
  const std::string what = "cannot start " + opts.executable.string();
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (opts.capture_output) {
    // O_CLOEXEC: other threads may spawn concurrently and must not inherit these ends.
    if (::pipe2(out, O_CLOEXEC) != 0) return os_error(what + " (stdout pipe)", errno);
    if (::pipe2(err, O_CLOEXEC) != 0) {
      const int e = errno;
      ::close(out[0]);
      ::close(out[1]);
      return os_error(what + " (stderr pipe)", e);
    }
  }
  std::vector<char*> argv;
  for (const auto& a : opts.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto env_strings = merged_environment(opts.env);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int report[2] = {-1, -1};
  if (::pipe2(report, O_CLOEXEC) != 0) {
    const int e = errno;
    for (int fd : {out[0], out[1], err[0], err[1]})
      if (fd >= 0) ::close(fd);
    return os_error(what + " (report pipe)", e);
  }
  const detail::child_setup setup{::getpid(),
                                  opts.executable.c_str(),
                                  argv.data(),
                                  envp.data(),
                                  opts.cwd.empty() ? nullptr : opts.cwd.c_str(),
                                  out[1],
                                  err[1],
                                  report[1],
                                  guard_kill_signal()};
  // posix_spawn cannot arm a parent-death signal or run a guard, so fork by hand. All signals
  // are blocked across fork so that none of this process's handlers runs in the child (the
  // guard keeps them blocked and reads them from a signalfd).
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (opts.contain_descendants) detail::run_guard(setup);
    detail::run_child(setup);
  }
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(report[1]);
  if (opts.capture_output) {
    ::close(out[1]);
    ::close(err[1]);
  }
  int child_errno = pid < 0 ? fork_errno : 0;
  pid_t agent = opts.contain_descendants ? -1 : pid;
  if (pid > 0) {
    // Records until EOF: the guard's agent pid, and an errno from whichever step failed.
    // EOF without an errno: the agent exec'd (the pipe is close-on-exec).
    detail::spawn_record r{};
    for (;;) {
      const ssize_t n = ::read(report[0], &r, sizeof r);
      if (n < 0 && errno == EINTR) continue;
      if (n != static_cast<ssize_t>(sizeof r)) break;
      if (r.kind == detail::spawn_record::failed && child_errno == 0) child_errno = r.value;
      if (r.kind == detail::spawn_record::agent_pid) agent = r.value;
    }
    if (child_errno == 0 && agent <= 0) child_errno = ECHILD;  // the guard died before forking
    if (child_errno != 0) {
      // A guard exits as soon as its agent has.
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  ::close(report[0]);
  if (child_errno != 0) {
    if (opts.capture_output) {
      ::close(out[0]);
      ::close(err[0]);
    }
    return os_error(what, child_errno);
  }
  child_process c;
  c.pid_ = agent;
  c.guarded_ = opts.contain_descendants;
  c.out_fd_ = out[0];
  c.err_fd_ = err[0];
  // Nobody else reaps our children, so the pid still names this child here.
  // syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C", so pidfd_open cannot link from C++.
  c.pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (c.pidfd_ < 0) {
    const int e = errno;
    ::kill(pid, c.guarded_ ? guard_kill_signal() : SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    c.reaped_ = true;
    return os_error(what + " (pidfd_open)", e);
  }
  ::fcntl(c.pidfd_, F_SETFD, FD_CLOEXEC);
  for (int fd : {c.out_fd_, c.err_fd_})
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return c;
}

child_process::child_process(child_process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      pidfd_(std::exchange(o.pidfd_, -1)),
      out_fd_(std::exchange(o.out_fd_, -1)),
      err_fd_(std::exchange(o.err_fd_, -1)),
      guarded_(o.guarded_),
      reaped_(std::exchange(o.reaped_, true)),
      status_(o.status_) {}

child_process& child_process::operator=(child_process&& o) noexcept {
  if (this != &o) {
    close_all();
    pid_ = std::exchange(o.pid_, -1);
    pidfd_ = std::exchange(o.pidfd_, -1);
    out_fd_ = std::exchange(o.out_fd_, -1);
    err_fd_ = std::exchange(o.err_fd_, -1);
    guarded_ = o.guarded_;
    reaped_ = std::exchange(o.reaped_, true);
    status_ = o.status_;
  }
  return *this;
}

child_process::~child_process() {
  close_all();
}

void child_process::close_all() noexcept {
  if (pid_ > 0 && !reaped_) {
    signal_group(SIGKILL);
    (void)reap();
  }
  close_fd(pidfd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
}

bool child_process::signal_group(int sig) noexcept {
  if (pid_ <= 0 || reaped_) return false;
  if (guarded_) {
    // Through the guard's pidfd: it relays the signal to the agent's group, or for SIGKILL
    // kills every descendant. Until we reap the guard its pidfd cannot name anyone else.
    // SIGSTOP cannot be caught to be relayed (it would stop the guard), and the guard's own
    // kill signal would mean something else.
    if (sig == SIGSTOP || sig == guard_kill_signal()) return false;
    const int relayed = sig == SIGKILL ? guard_kill_signal() : sig;
    return ::syscall(SYS_pidfd_send_signal, pidfd_, relayed, nullptr, 0U) == 0;
  }
  // Until reaped, the leader (at least a zombie) holds its pid and so its group id: the
  // group cannot have been recycled.
  return ::kill(-pid_, sig) == 0;
}

std::optional<exit_status> child_process::try_reap() noexcept {
  if (reaped_) return status_;
  if (pid_ <= 0) return std::nullopt;
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG) != 0)
    return std::nullopt;
  if (info.si_pid == 0) return std::nullopt;
  // The leader is gone; what remains of its group would keep the agent's inbox and pipes.
  // (A guard has killed all that before it exited, and reaped the agent: its pid is no
  // longer ours to signal.)
  if (!guarded_) ::kill(-pid_, SIGKILL);
  reaped_ = true;
  status_.exited = info.si_code == CLD_EXITED;
  status_.code = status_.exited ? info.si_status : 0;
  status_.signal = status_.exited ? 0 : info.si_status;
  return status_;
}

exit_status child_process::reap() noexcept {
  while (!reaped_) {
    if (auto s = try_reap()) return *s;
    siginfo_t info{};
    // Wait without reaping (WNOWAIT) so that try_reap can clear the group first.
    if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &info, WEXITED | WNOWAIT) != 0 &&
        errno != EINTR)
      reaped_ = true;  // someone else reaped our child: nothing left to wait for
  }
  return status_;
}

void line_splitter::feed(std::string_view data, const std::function<void(std::string_view)>& emit) {
  while (!data.empty()) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(data);
      while (partial_.size() >= max_line_) {
        emit(std::string_view(partial_).substr(0, max_line_));
        partial_.erase(0, max_line_);
      }
      return;
    }
    if (partial_.empty()) {
      emit(data.substr(0, nl));
    } else {
      partial_.append(data.substr(0, nl));
      emit(partial_);
      partial_.clear();
    }
    data.remove_prefix(nl + 1);
  }
}

void line_splitter::finish(const std::function<void(std::string_view)>& emit) {
  if (!partial_.empty()) emit(partial_);
  partial_.clear();
}

// ---- watcher ---------------------------------------------------------------------------

namespace {
// Tag in the low bits of epoll data: what kind of fd woke us.
enum : std::uint64_t { tag_pidfd = 0, tag_out = 1, tag_err = 2, tag_control = 3 };
constexpr auto drain_grace = std::chrono::milliseconds{500};
}  // namespace

struct process_watcher::impl {
  struct entry {
    entry(child_process c, callbacks callbacks) : child(std::move(c)), cb(std::move(callbacks)) {}
    child_process child;
    callbacks cb;
    int fds[2] = {-1, -1};  // stdout, stderr read ends
    line_splitter split[2];
    std::optional<exit_status> status;
    std::chrono::steady_clock::time_point drain_deadline;
  };

  int epoll = -1;
  int wake = -1;   // eventfd: stop request
  int sigfd = -1;  // signalfd, when watch_signals was called
  std::function<void(int)> on_signal;
  std::mutex mu;  // guards entries (the map), each entry's child (signal vs reap), sigfd/on_signal
  std::map<child_id, std::unique_ptr<entry>> entries;
  child_id next_id = 1;
  bool stopping = false;
  std::thread thread;

  void add(int fd, std::uint64_t tag) const {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev);
  }

  entry* find(child_id id) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = entries.find(id);
    return it == entries.end() ? nullptr : it->second.get();
  }

  void drain(entry& e, int which) {
    char buf[16 * 1024];
    const auto stream = which == 0 ? output_stream::out : output_stream::err;
    auto emit = [&](std::string_view line) {
      if (e.cb.on_line) e.cb.on_line(stream, line);
    };
    // A bounded number of reads per wake-up so one chatty agent cannot starve the rest
    // (level-triggered epoll brings us back).
    for (int round = 0; round < 16 && e.fds[which] >= 0; ++round) {
      const ssize_t n = ::read(e.fds[which], buf, sizeof buf);
      if (n > 0) {
        e.split[which].feed(std::string_view(buf, static_cast<std::size_t>(n)), emit);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      e.split[which].finish(emit);
      ::epoll_ctl(epoll, EPOLL_CTL_DEL, e.fds[which], nullptr);
      close_fd(e.fds[which]);
    }
  }

  void on_pidfd(child_id id) {
    entry* e = find(id);
    if (!e) return;
    std::lock_guard<std::mutex> lock(mu);
    if (auto s = e->child.try_reap()) {
      e->status = s;
      e->drain_deadline = std::chrono::steady_clock::now() + drain_grace;
      ::epoll_ctl(epoll, EPOLL_CTL_DEL, e->child.pidfd(), nullptr);
    }
  }

  // Children that were reaped and whose output is drained (or out of grace) are reported.
  int finish_ready() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<entry>> done;
    int timeout = -1;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto it = entries.begin(); it != entries.end();) {
        entry& e = *it->second;
        const bool drained = e.fds[0] < 0 && e.fds[1] < 0;
        if (e.status && (drained || now >= e.drain_deadline)) {
          done.push_back(std::move(it->second));
          it = entries.erase(it);
          continue;
        }
        if (e.status) {
          const auto left =
              std::chrono::duration_cast<std::chrono::milliseconds>(e.drain_deadline - now);
          const int ms = static_cast<int>(left.count()) + 1;
          timeout = timeout < 0 ? ms : std::min(timeout, ms);
        }
        ++it;
      }
    }
    for (auto& e : done) {
      for (int which = 0; which < 2; ++which) {
        if (e->fds[which] < 0) continue;
        drain(*e, which);
        if (e->fds[which] >= 0) {
          e->split[which].finish([&](std::string_view line) {
            if (e->cb.on_line)
              e->cb.on_line(which == 0 ? output_stream::out : output_stream::err, line);
          });
          ::epoll_ctl(epoll, EPOLL_CTL_DEL, e->fds[which], nullptr);
          close_fd(e->fds[which]);
        }
      }
      if (e->cb.on_exit) e->cb.on_exit(*e->status);
    }
    return timeout;
  }

  void run() {
    epoll_event events[32];
    int timeout = -1;
    for (;;) {
      const int n = ::epoll_wait(epoll, events, 32, timeout);
      for (int i = 0; i < n; ++i) {
        const std::uint64_t tag = events[i].data.u64 & 3;
        const child_id id = events[i].data.u64 >> 2;
        if (tag == tag_control && id == 0) return;  // stop
        if (tag == tag_control) {
          int fd = -1;
          std::function<void(int)> notify;
          {
            std::lock_guard<std::mutex> lock(mu);  // set by watch_signals on another thread
            fd = sigfd;
            notify = on_signal;
          }
          signalfd_siginfo si{};
          while (::read(fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
            if (notify) notify(static_cast<int>(si.ssi_signo));
          continue;
        }
        if (tag == tag_pidfd) {
          on_pidfd(id);
          continue;
        }
        if (entry* e = find(id)) drain(*e, tag == tag_out ? 0 : 1);
      }
      timeout = finish_ready();
    }
  }
};

process_watcher::process_watcher() : p_(std::make_unique<impl>()) {
  p_->epoll = ::epoll_create1(EPOLL_CLOEXEC);
  p_->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  p_->add(p_->wake, tag_control);
  p_->thread = std::thread([this] { p_->run(); });
}

process_watcher::~process_watcher() {
  const std::uint64_t one = 1;
  (void)!::write(p_->wake, &one, sizeof one);
  p_->thread.join();
  p_->entries.clear();  // child_process destructors kill and reap what is left
  close_fd(p_->sigfd);
  close_fd(p_->wake);
  close_fd(p_->epoll);
}

process_watcher::child_id process_watcher::watch(child_process child, callbacks cb) {
  const int out = child.take_stdout();
  const int err = child.take_stderr();
  const int pidfd = child.pidfd();
  auto e = std::make_unique<impl::entry>(std::move(child), std::move(cb));
  e->fds[0] = out;
  e->fds[1] = err;
  child_id id = 0;
  {
    std::lock_guard<std::mutex> lock(p_->mu);
    id = p_->next_id++;
    auto* raw = e.get();
    p_->entries.emplace(id, std::move(e));
    if (raw->fds[0] >= 0) p_->add(raw->fds[0], id << 2 | tag_out);
    if (raw->fds[1] >= 0) p_->add(raw->fds[1], id << 2 | tag_err);
    p_->add(pidfd, id << 2 | tag_pidfd);
  }
  return id;
}

bool process_watcher::signal(child_id id, int sig) {
  std::lock_guard<std::mutex> lock(p_->mu);
  auto it = p_->entries.find(id);
  return it != p_->entries.end() && it->second->child.signal_group(sig);
}

void process_watcher::watch_signals(const std::vector<int>& signals,
                                    std::function<void(int)> on_signal) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  std::lock_guard<std::mutex> lock(p_->mu);
  p_->on_signal = std::move(on_signal);
  p_->sigfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  p_->add(p_->sigfd, std::uint64_t{1} << 2 | tag_control);
}

}  // namespace sluice::actors
