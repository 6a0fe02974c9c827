#pragma once
// Throw-away directories for one test, removed with everything in them at the end.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace sluice::test {

// A fresh private directory (mkdtemp: 0700, owned by the caller).
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  // A file in it: written whole, read whole ("" when it does not exist).
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path_ / name);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

 private:
  std::filesystem::path path_;
};

// A bus directory that does not exist yet, <root>/bus, inside a fresh temp_dir: what sluice
// creates there is what a user's first command would create.
class temp_bus {
 public:
  const std::filesystem::path& root() const { return root_.path(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  temp_dir root_;
  std::filesystem::path dir_ = root_.path() / "bus";
};

}  // namespace sluice::test
