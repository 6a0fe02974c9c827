#pragma once
// Multi-process test plumbing: a private bus directory, memory shared with forked children,
// fork/wait, and awaiting a condition with a bound instead of sleeping a guessed time.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice::backpressure::testing {

class temp_bus {
 public:
  temp_bus() {
    std::string tmpl = (std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp") +
                       std::string("/sluice-bp-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = tmpl;
  }
  ~temp_bus() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  temp_bus(const temp_bus&) = delete;
  temp_bus& operator=(const temp_bus&) = delete;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// A T in anonymous shared memory: children forked after construction see the same object.
template <class T>
class shared {
 public:
  static_assert(std::is_trivially_destructible_v<T>);
  shared() {
    void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    obj_ = new (p) T{};
  }
  ~shared() { munmap(obj_, sizeof(T)); }
  shared(const shared&) = delete;
  shared& operator=(const shared&) = delete;
  T* operator->() { return obj_; }
  T& operator*() { return *obj_; }

 private:
  T* obj_;
};

// Runs body() in a child process; its return value is the exit code. Nothing escapes the
// child: an exception becomes exit code 99.
template <class F>
pid_t spawn(F&& body) {
  const pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
    }
    _exit(code);
  }
  return pid;
}

// Exit code of the child, or 128 + signal number if a signal ended it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Children that are killed and reaped when the test leaves early (a failed REQUIRE), so a
// failing test never leaves senders behind.
class child_group {
 public:
  child_group() = default;
  child_group(const child_group&) = delete;
  child_group& operator=(const child_group&) = delete;
  ~child_group() {
    for (pid_t pid : pids_) {
      kill(pid, SIGKILL);
      wait_exit(pid);
    }
  }
  template <class F>
  void spawn(F&& body) {
    pids_.push_back(testing::spawn(std::forward<F>(body)));
  }
  // Waits for every child; returns their exit codes in spawn order.
  std::vector<int> wait_all() {
    std::vector<int> codes;
    for (pid_t pid : pids_) codes.push_back(wait_exit(pid));
    pids_.clear();
    return codes;
  }

 private:
  std::vector<pid_t> pids_;
};

// Polls pred every 200 us until it holds or `limit` passes; returns whether it held.
template <class Pred>
bool await(Pred&& pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace sluice::backpressure::testing
