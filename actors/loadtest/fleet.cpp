#include "actors/loadtest/fleet.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

namespace sluice::actors {

namespace {

runtime::error os_error(const std::string& what) {
  return {runtime::errc::io_error, what + ": " + std::strerror(errno)};
}

class process_fleet final : public sender_fleet {
 public:
  struct child {
    pid_t pid = -1;
    int start_fd = -1;   // write end of the child's stdin: one byte releases it
    int report_fd = -1;  // read end of the child's stdout
    std::optional<int> status;
  };

  ~process_fleet() override {
    for (auto& c : children_) {
      if (!c.status && c.pid > 0) {
        kill(c.pid, SIGKILL);
        int st = 0;
        waitpid(c.pid, &st, 0);
      }
      if (c.start_fd >= 0) close(c.start_fd);
      if (c.report_fd >= 0) close(c.report_fd);
    }
  }

  std::vector<child> children_;

  void start() override {
    for (auto& c : children_) {
      const char go = 'g';
      // A child that already died shows up in running()/reports(); nothing to do here.
      (void)!write(c.start_fd, &go, 1);
      close(c.start_fd);
      c.start_fd = -1;
    }
  }

  std::uint32_t running() override {
    std::uint32_t n = 0;
    for (auto& c : children_) {
      if (c.status) continue;
      int st = 0;
      const pid_t r = waitpid(c.pid, &st, WNOHANG);
      if (r == c.pid) {
        c.status = st;
      } else {
        ++n;
      }
    }
    return n;
  }

  void stop() override {
    for (auto& c : children_) {
      if (!c.status) kill(c.pid, SIGTERM);
    }
  }

  runtime::result<std::vector<sender_report>> reports() override {
    std::vector<sender_report> out;
    for (std::size_t i = 0; i < children_.size(); ++i) {
      auto& c = children_[i];
      std::string text;
      char buf[4096];
      for (;;) {
        const ssize_t r = read(c.report_fd, buf, sizeof buf);
        if (r > 0) {
          text.append(buf, static_cast<std::size_t>(r));
        } else if (r == 0 || errno != EINTR) {
          break;
        }
      }
      const int st = c.status.value_or(0);
      if (!c.status || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        const std::string how = !c.status ? "is still running"
                                : WIFSIGNALED(st)
                                    ? std::string{"was killed by signal "} + strsignal(WTERMSIG(st))
                                    : "exited with status " + std::to_string(WEXITSTATUS(st));
        return runtime::error{runtime::errc::io_error, "loadtest sender " + std::to_string(i) +
                                                           " (pid " + std::to_string(c.pid) + ") " +
                                                           how +
                                                           " without a report; its error is above"};
      }
      try {
        out.push_back(nlohmann::json::parse(text).get<sender_report>());
      } catch (const nlohmann::json::exception& e) {
        return runtime::error{
            runtime::errc::corrupt,
            "loadtest sender " + std::to_string(i) + " printed an unreadable report: " + e.what()};
      }
    }
    return out;
  }
};

class thread_fleet final : public sender_fleet {
 public:
  explicit thread_fleet(const std::vector<sender_config>& configs)
      : results_(configs.size()), done_(configs.size()) {
    auto go = go_.get_future().share();
    for (std::size_t i = 0; i < configs.size(); ++i) {
      threads_.emplace_back([this, i, cfg = configs[i], go] {
        go.wait();
        results_[i].emplace(run_sender(cfg, stop_));
        // sync: sender-done — release publishes results_[i] to reports() after running() saw it.
        done_[i].store(true, std::memory_order_release);
      });
    }
  }

  ~thread_fleet() override {
    stop();
    if (!started_) go_.set_value();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  void start() override {
    started_ = true;
    go_.set_value();
  }

  std::uint32_t running() override {
    std::uint32_t n = 0;
    // sync: sender-done — acquire pairs with the thread's release of its result.
    for (const auto& d : done_) n += d.load(std::memory_order_acquire) ? 0 : 1;
    return n;
  }

  void stop() override { stop_.store(true); }

  runtime::result<std::vector<sender_report>> reports() override {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::vector<sender_report> out;
    for (auto& r : results_) {
      if (!*r) return r->err();
      out.push_back(r->value());
    }
    return out;
  }

 private:
  std::promise<void> go_;
  bool started_ = false;
  std::atomic<int> stop_{0};
  std::vector<std::optional<runtime::result<sender_report>>> results_;
  std::vector<std::atomic<bool>> done_;
  std::vector<std::thread> threads_;
};

}  // namespace

runtime::result<std::unique_ptr<sender_fleet>> spawn_sender_processes(
    const std::string& exe, const std::vector<sender_config>& configs) {
  auto fleet = std::make_unique<process_fleet>();
  for (const auto& cfg : configs) {
    const std::string json = nlohmann::json(cfg).dump();
    int in[2];
    int out[2];
    // O_CLOEXEC: no child inherits another child's pipes, so every EOF arrives on time.
    if (pipe2(in, O_CLOEXEC) != 0) return os_error("loadtest: pipe");
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      return os_error("loadtest: pipe");
    }
    const char* argv[] = {exe.c_str(), "loadtest-sender", json.c_str(), nullptr};
    const pid_t pid = fork();
    if (pid < 0) return os_error("loadtest: fork");
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec: the parent may be multithreaded.
      if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) _exit(126);
      execv(exe.c_str(), const_cast<char* const*>(argv));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fleet->children_.push_back({pid, in[1], out[0], std::nullopt});
  }
  return std::unique_ptr<sender_fleet>{std::move(fleet)};
}

std::unique_ptr<sender_fleet> spawn_sender_threads(const std::vector<sender_config>& configs) {
  return std::make_unique<thread_fleet>(configs);
}

}  // namespace sluice::actors
