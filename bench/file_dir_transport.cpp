// The bus sluice replaces: one file per message in a directory (write a temp file, rename it
// in), the consumer lists the directory, reads and deletes each file. Sleeping = poll every
// millisecond (the bash tool slept 100 ms).
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench.hpp"

namespace sluice::bench {
namespace {

namespace fs = std::filesystem;

class file_sender : public sender {
 public:
  file_sender(fs::path dir, std::uint32_t index)
      : dir_(std::move(dir)), prefix_(std::to_string(index) + "-") {}
  void send(const char* data, std::size_t size) override {
    const std::string name = prefix_ + std::to_string(counter_++);
    const std::string tmp = (dir_ / ("." + name + ".tmp")).string();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return;
    const bool ok = ::write(fd, data, size) == static_cast<ssize_t>(size);
    ::close(fd);
    if (ok) ::rename(tmp.c_str(), (dir_ / name).c_str());
  }

 private:
  fs::path dir_;
  std::string prefix_;
  std::uint64_t counter_ = 0;
};

class file_receiver : public receiver {
 public:
  file_receiver(fs::path dir, std::size_t size) : dir_(std::move(dir)), buf_(size + 1) {}
  std::size_t receive(bool sleeping, const on_message& fn) override {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir_.c_str())) {
      while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.') names.emplace_back(e->d_name);
      }
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      const std::string path = (dir_ / n).string();
      const int fd = ::open(path.c_str(), O_RDONLY);
      if (fd < 0) continue;
      const ssize_t got = ::read(fd, buf_.data(), buf_.size());
      ::close(fd);
      ::unlink(path.c_str());
      if (got > 0) fn(buf_.data(), static_cast<std::size_t>(got));
    }
    if (names.empty() && sleeping) ::usleep(1000);
    return names.size();
  }

 private:
  fs::path dir_;
  std::vector<char> buf_;
};

class file_dir_transport : public transport {
 public:
  std::string name() const override { return "file_dir"; }
  std::uint64_t throughput_messages() const override { return 10'000; }
  void setup(const endpoint_config& cfg) override {
    dir_ = fs::path("/dev/shm") / ("sluice-bench-files-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directory(dir_);
    size_ = cfg.payload;
  }
  void teardown() override { fs::remove_all(dir_); }
  std::unique_ptr<sender> open_sender(std::uint32_t index) override {
    return std::make_unique<file_sender>(dir_, index);
  }
  std::unique_ptr<receiver> open_receiver() override {
    return std::make_unique<file_receiver>(dir_, size_);
  }

 private:
  fs::path dir_;
  std::size_t size_ = 0;
};

}  // namespace

std::unique_ptr<transport> make_file_dir_transport() {
  return std::make_unique<file_dir_transport>();
}

}  // namespace sluice::bench
