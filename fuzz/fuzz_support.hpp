#pragma once
// Shared by the fuzz targets: one private scratch directory per fuzzing process, so targets
// that need files (inbox files, sluice.toml) never touch anything else.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace sluice::fuzz {

inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-fuzz-XXXXXX").string();
    return std::filesystem::path(::mkdtemp(tmpl.data()));
  }();
  return dir;
}

// Writes bytes to path (replacing it), mode 0600.
inline bool write_file(const std::filesystem::path& path, const std::uint8_t* data,
                       std::size_t size) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  std::fclose(f);
  ::chmod(path.c_str(), 0600);
  return ok;
}

}  // namespace sluice::fuzz
