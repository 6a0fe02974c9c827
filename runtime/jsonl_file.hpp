#pragma once
// An append-only line log shared by many processes: metrics.jsonl, alerts.jsonl.
//
// Each line goes out in one write(2) on an O_APPEND descriptor, so concurrent writers in
// any number of processes never interleave inside a line. At `max_bytes` the file is
// rotated to <file>.1 (one generation kept) under an flock on <file>.lock: exactly one
// writer renames, the others notice the new inode and reopen. A writer that wrote its line
// just before noticing lands it in .1, whole. The file is opened lazily on the first line.
// One object may be shared by threads (actors on CAF's pool): append is serialised.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string_view>

namespace sluice::runtime {

inline constexpr std::uint64_t default_rotate_bytes = 64ull << 20;

class jsonl_file {
 public:
  explicit jsonl_file(std::filesystem::path file, std::uint64_t max_bytes = default_rotate_bytes);
  jsonl_file(jsonl_file&&) noexcept;
  jsonl_file& operator=(jsonl_file&&) noexcept;
  jsonl_file(const jsonl_file&) = delete;
  jsonl_file& operator=(const jsonl_file&) = delete;
  ~jsonl_file();

  // Appends `line` plus '\n'. false when the file cannot be opened or written; the first
  // failure is logged (warn) and every failure counted, the caller's work goes on.
  bool append(std::string_view line) noexcept;

  // Counts (and, the first time, logs) a failure to produce a line; always false, so a
  // caller can `return out.record_failure(...)`.
  bool record_failure(const char* what, int err) noexcept;

  std::uint64_t failures() const noexcept;
  const std::filesystem::path& path() const noexcept { return file_; }

 private:
  bool open_file() noexcept;
  bool rotate_if_needed(std::size_t incoming) noexcept;
  bool note_failure(const char* what, int err) noexcept;  // with mutex_ held

  std::filesystem::path file_;
  std::filesystem::path lock_file_;
  std::filesystem::path rotated_file_;
  std::uint64_t max_bytes_;
  int fd_ = -1;
  std::uint64_t failures_ = 0;
  mutable std::mutex mutex_;  // guards fd_ and failures_; never held across processes
};

}  // namespace sluice::runtime
