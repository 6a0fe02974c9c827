// The layering of docs/architecture.md section 1, checked from the includes: a file may
// include its own component and components of lower layers, never a higher layer and never
// another component of its own layer (two features do not reach into each other).
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct component {
  const char* folder;  // relative to the source tree; the longest matching prefix wins
  int layer;
};

// The table of docs/architecture.md section 1, lowest layer first. inbox/files, cli/embed and
// actors/loadtest/report are parts of their parent's component (the inbox opens files through
// inbox/files, which reports errors with the inbox's result type; the report draws the load
// test's own result). bindings/ sits beside cli/: both are ways into the bus from outside, over
// the same layers.
const component components[] = {
    {"inbox", 1},         {"inbox/doctor", 2},  {"backpressure", 3},    {"runtime", 4},
    {"runtime/cli", 5},   {"governance", 5},    {"monitors", 6},        {"actors/agent", 7},
    {"actors/launch", 7}, {"actors/bridge", 7}, {"actors/loadtest", 7}, {"cli", 8},
    {"bindings", 8},      {"examples", 9},      {"bench", 9},           {"fuzz", 9},
};

// bindings/python and bindings/node are the languages' halves of the bindings' one C++ layer.
const char* const part_folders[] = {"inbox/files", "cli/embed", "actors/loadtest/report",
                                    "bindings/python", "bindings/node"};

const component* component_of(const std::string& path) {
  const component* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& c : components) {
    const std::string prefix = std::string(c.folder) + "/";
    if (path.compare(0, prefix.size(), prefix) == 0 && prefix.size() > best_len) {
      best = &c;
      best_len = prefix.size();
    }
  }
  return best;
}

std::vector<std::string> sources() {
  std::vector<std::string> out;
  const fs::path root = SLUICE_SOURCE_DIR;
  std::vector<std::string> folders;
  for (const auto& c : components) folders.push_back(c.folder);
  for (const auto* part : part_folders) folders.push_back(part);
  for (const auto& folder : folders) {
    const fs::path dir = root / folder;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      const auto ext = e.path().extension();
      if (e.is_regular_file() && (ext == ".cpp" || ext == ".hpp"))
        out.push_back(fs::relative(e.path(), root).string());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("no include goes up a layer or across to another component of the same layer") {
  const std::regex include_line(R"re(^\s*#\s*include\s+"([^"]+)")re");
  const auto files = sources();
  REQUIRE(files.size() > 100);  // the walk found the tree
  std::size_t checked = 0;
  for (const auto& file : files) {
    const component* from = component_of(file);
    REQUIRE(from != nullptr);
    std::ifstream in(fs::path(SLUICE_SOURCE_DIR) / file);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, include_line)) continue;
      const component* to = component_of(m[1].str());
      if (to == nullptr) continue;  // a header beside the file, or a test's own helper
      ++checked;
      INFO(file << " includes " << m[1].str());
      CHECK((to == from || to->layer < from->layer));
    }
  }
  CHECK(checked > 400);  // the includes were read
}

TEST_CASE("every source folder belongs to a component of the layer table") {
  const fs::path root = SLUICE_SOURCE_DIR;
  for (const char* top : {"inbox", "backpressure", "runtime", "governance", "monitors", "actors",
                          "cli", "bindings"}) {
    for (const auto& e : fs::recursive_directory_iterator(root / top)) {
      if (!e.is_regular_file() || e.path().extension() != ".cpp") continue;
      const auto rel = fs::relative(e.path(), root).string();
      INFO(rel);
      const component* c = component_of(rel);
      REQUIRE(c != nullptr);
      // The file's folder is the component's folder itself, not an unlisted subfolder.
      const std::string folder = fs::path(rel).parent_path().string();
      const bool part = std::find(std::begin(part_folders), std::end(part_folders), folder) !=
                        std::end(part_folders);
      CHECK((folder == c->folder || part));
    }
  }
}

// ctest names each Catch2 test after its TEST_CASE, and a ';' there splits it into two entries
// that each match no test and pass without running anything.
TEST_CASE("no test case name holds a semicolon, so ctest runs every test it lists") {
  const fs::path root = fs::path(SLUICE_SOURCE_DIR) / "tests";
  const std::regex test_case(R"re(TEST_CASE\(\s*"([^"]*)")re");
  std::size_t names = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".cpp") continue;
    std::ifstream in(e.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::sregex_iterator it(text.begin(), text.end(), test_case), end; it != end; ++it) {
      ++names;
      INFO(fs::relative(e.path(), root).string() << ": " << (*it)[1].str());
      CHECK((*it)[1].str().find(';') == std::string::npos);
    }
  }
  CHECK(names > 500);  // the walk found the tests
}
