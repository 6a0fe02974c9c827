#pragma once
// Runs `sluice launch` as a real child process for the launch and example tests: its own
// bus directory, its output collected line by line, its exit awaited with a bound. A test
// that fails half-way still stops launch and its agents (SIGINT twice: no grace), so no
// agent outlives a test.
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "actors/launch/process.hpp"
#include "support/await.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace sluice::test {

namespace fs = std::filesystem;

class launch_run {
 public:
  // Starts `sluice launch <manifest> <extra...>` with SLUICE_DIR=bus_dir plus `env`, run
  // through `wrapper` when given (e.g. setpriv ... to run it as another user).
  launch_run(const fs::path& manifest, const fs::path& bus_dir, std::vector<std::string> extra = {},
             std::vector<std::pair<std::string, std::string>> env = {},
             std::vector<std::string> wrapper = {}) {
    actors::spawn_options o;
    o.executable =
        wrapper.empty() ? fs::path(sluice::test::sluice_path()) : fs::path(wrapper.front());
    o.argv = wrapper.empty() ? std::vector<std::string>{"sluice"} : wrapper;
    if (!wrapper.empty()) o.argv.push_back(sluice::test::sluice_path());
    o.argv.insert(o.argv.end(), {"launch", manifest.string()});
    for (auto& e : extra) o.argv.push_back(std::move(e));
    o.env = std::move(env);
    o.env.emplace_back("SLUICE_DIR", bus_dir.string());
    o.env.emplace_back("NO_COLOR", "1");
    // Unguarded: a guard here would be the subreaper of everything launch starts and would
    // clean up after a killed launch itself, hiding what the tests check.
    o.contain_descendants = false;
    auto child = actors::child_process::spawn(o);
    if (!child) throw std::runtime_error(child.err().message);
    pid_ = child->pid();
    actors::process_watcher::callbacks cb;
    cb.on_line = [this](actors::output_stream, std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      output_ += std::string(line) + "\n";
    };
    cb.on_exit = [this](const actors::exit_status& st) {
      std::lock_guard<std::mutex> lock(mu_);
      status_ = st;
      cv_.notify_all();
    };
    id_ = watcher_.watch(std::move(child.value()), std::move(cb));
  }

  ~launch_run() {
    if (exited()) return;
    signal(SIGINT);
    signal(SIGINT);
    if (!wait(std::chrono::seconds(10))) signal(SIGKILL);
  }

  bool signal(int sig) { return watcher_.signal(id_, sig); }
  pid_t pid() const { return pid_; }

  // The exit status, or nullopt when launch is still running after `limit`.
  std::optional<actors::exit_status> wait(
      std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, limit, [this] { return status_.has_value(); });
    return status_;
  }
  bool exited() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_.has_value();
  }
  std::string output() {
    std::lock_guard<std::mutex> lock(mu_);
    return output_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
  std::optional<actors::exit_status> status_;
  pid_t pid_ = -1;
  actors::process_watcher::child_id id_ = 0;
  // Last: destroyed first, so its thread never calls back into destroyed members.
  actors::process_watcher watcher_;
};

}  // namespace sluice::test
