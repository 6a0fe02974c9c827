#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace sluice::test {

namespace {

using clock = std::chrono::steady_clock;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The test process writes into pipes whose reader may exit early (sluice refusing an
// oversized stdin); that must be an EPIPE, not a dead test runner.
const bool sigpipe_ignored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int ms_until(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Reads what is available from fd into buf; closes fd at EOF.
void drain_once(int& fd, std::string& buf) {
  char chunk[65536];
  const ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n > 0) {
    buf.append(chunk, static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    close_fd(fd);
  }
}

}  // namespace

const char* sluice_path() {
  return SLUICE_EXE;
}

std::string sluice_executable_path(std::string_view name) {
  return (std::filesystem::path(SLUICE_EXE).parent_path() / name).string();
}

process::process(const options& opts) {
  (void)sigpipe_ignored;
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (opts.stdin_fd < 0) make_pipe(in);
  if (opts.stdout_fd < 0) make_pipe(out);
  make_pipe(err);

  std::vector<std::string> env_strings;
  for (const auto& [k, v] : opts.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = opts.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw_errno("fork");
  if (pid_ == 0) {
    // dup2 clears O_CLOEXEC on the target, so only fds 0-2 survive the exec.
    ::dup2(opts.stdin_fd >= 0 ? opts.stdin_fd : in[0], 0);
    ::dup2(opts.stdout_fd >= 0 ? opts.stdout_fd : out[1], 1);
    ::dup2(err[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (in[0] >= 0) ::close(in[0]);
  if (out[1] >= 0) ::close(out[1]);
  ::close(err[1]);
  in_ = in[1];
  out_ = out[0];
  err_ = err[0];
}

process::~process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  close_fd(in_);
  close_fd(out_);
  close_fd(err_);
}

void process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<std::string> process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    if (const auto nl = out_buf_.find('\n'); nl != std::string::npos) {
      std::string line = out_buf_.substr(0, nl);
      out_buf_.erase(0, nl + 1);
      return line;
    }
    if (out_ < 0) return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    const int r = ::poll(&p, 1, ms_until(deadline));
    if (r == 0) return std::nullopt;
    if (r < 0 && errno != EINTR) throw_errno("poll");
    if (r > 0) drain_once(out_, out_buf_);
  }
}

run_result process::finish(const std::string& input, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  std::size_t written = 0;
  if (in_ >= 0 && input.empty()) close_fd(in_);
  bool killed = false;
  while (in_ >= 0 || out_ >= 0 || err_ >= 0) {
    if (clock::now() >= deadline && !killed) {
      ::kill(pid_, SIGKILL);
      killed = true;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (in_ >= 0) fds[n++] = {in_, POLLOUT, 0};
    if (out_ >= 0) fds[n++] = {out_, POLLIN, 0};
    if (err_ >= 0) fds[n++] = {err_, POLLIN, 0};
    const int r = ::poll(fds, n, killed ? 1000 : ms_until(deadline));
    if (r < 0 && errno != EINTR) throw_errno("poll");
    if (r <= 0) continue;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_) {
        const ssize_t w = ::write(in_, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == input.size()) close_fd(in_);  // EPIPE: the child stopped reading
      } else if (fds[i].fd == out_) {
        drain_once(out_, out_buf_);
      } else if (fds[i].fd == err_) {
        drain_once(err_, err_buf_);
      }
    }
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  run_result r;
  r.exit_code = decode_status(status);
  r.out = std::move(out_buf_);
  r.err = std::move(err_buf_);
  return r;
}

bus_fixture::bus_fixture() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-cli-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw_errno("mkdtemp");
  root_ = tmpl;
  dir_ = root_ / "bus";
  std::filesystem::create_directories(root_ / "home");
  env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
         {"HOME", (root_ / "home").string()},
         {"XDG_CONFIG_HOME", (root_ / "home" / ".config").string()},
         {"SLUICE_DIR", dir_.string()}};
  // The sanitizers' settings (CI's suppressions, halt_on_error) follow the tests into the
  // processes they run.
  for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = ::getenv(name)) env[name] = value;
  }
}

bus_fixture::~bus_fixture() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::filesystem::path bus_fixture::inbox_file(const std::string& agent) const {
  return dir_ / (agent + ".inbox");
}

process::options bus_fixture::options_for(const std::vector<std::string>& args) const {
  process::options o;
  o.argv.push_back(sluice_path());
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = env;
  return o;
}

run_result bus_fixture::run(const std::vector<std::string>& args, const std::string& input) const {
  return run_env({}, args, input);
}

run_result bus_fixture::run_env(const env_map& extra, const std::vector<std::string>& args,
                                const std::string& input) const {
  auto o = options_for(args);
  for (const auto& [k, v] : extra) o.env[k] = v;
  process p(o);
  return p.finish(input);
}

process bus_fixture::start(const std::vector<std::string>& args) const {
  return process(options_for(args));
}

bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  // The command name in parentheses may hold spaces and parentheses; the state follows the last
  // ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return true;
  const char state = line[close + 2];
  return state == 'Z' || state == 'X';
}

}  // namespace sluice::test
