#pragma once
// A throw-away bus directory for one test, removed with everything in it afterwards.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "inbox/inbox.hpp"

namespace sluice::inbox::testing {

class temp_bus {
 public:
  temp_bus() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "sluice-inbox-test-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    dir_ = root_ / "bus";
  }
  ~temp_bus() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  temp_bus(const temp_bus&) = delete;
  temp_bus& operator=(const temp_bus&) = delete;
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path root_;
  std::filesystem::path dir_;
};

inline message_view msg(std::string_view payload, priority p = priority::normal,
                        std::string_view from = "tester", std::string_view type = "note") {
  return message_view{from, type, payload, p};
}

}  // namespace sluice::inbox::testing
