#pragma once
// Child processes for multi-process tests: run a function in a forked child, reap it, kill
// and reap every child a failing test leaves behind, share memory with children, and size the
// work down under sanitizers (they slow every atomic and memcpy several times).
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <new>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

// Runs body() in a child process whose exit code is its return value. Nothing escapes the
// child: no atexit handler, no Catch2 report; an exception becomes exit code 99.
template <class F>
pid_t spawn(F&& body) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
    }
    ::_exit(code);
  }
  return pid;
}

// Exit code of a reaped child, 128 + signal when a signal ended it, -1 on error.
inline int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Children that are killed and reaped when the test leaves early (a failed REQUIRE), so a
// failing test never leaves processes behind.
class child_group {
 public:
  child_group() = default;
  child_group(const child_group&) = delete;
  child_group& operator=(const child_group&) = delete;
  ~child_group() {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      reap(pid);
    }
  }
  template <class F>
  void spawn(F&& body) {
    pids_.push_back(test::spawn(std::forward<F>(body)));
  }
  // Waits for every child; returns their exit codes in spawn order.
  std::vector<int> wait_all() {
    std::vector<int> codes;
    for (pid_t pid : pids_) codes.push_back(reap(pid));
    pids_.clear();
    return codes;
  }

 private:
  std::vector<pid_t> pids_;
};

// A T in anonymous shared memory: children forked after construction see the same object.
template <class T>
class shared {
 public:
  static_assert(std::is_trivially_destructible_v<T>);
  shared() {
    void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    obj_ = new (p) T{};
  }
  ~shared() { ::munmap(obj_, sizeof(T)); }
  shared(const shared&) = delete;
  shared& operator=(const shared&) = delete;
  T* operator->() { return obj_; }
  T& operator*() { return *obj_; }
  T* get() { return obj_; }

 private:
  T* obj_;
};

}  // namespace sluice::test
