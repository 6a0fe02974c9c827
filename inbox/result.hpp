#pragma once
// Expected-style result for set-up calls that can fail (open, create, attach).
// The hot path never uses it: try_push returns a plain enum.
#include <string>
#include <utility>
#include <variant>

namespace sluice::inbox {

enum class errc {
  invalid_name,       // agent name does not match ^[A-Za-z0-9_-]{1,64}$
  path_is_symlink,    // bus dir or inbox file is a symlink: refused, never followed
  not_found,          // inbox file does not exist (open without create)
  permission_denied,  // EACCES/EPERM, or file owned by another user
  bad_magic,          // not a sluice inbox
  wrong_version,      // layout version this build does not understand
  wrong_size,         // file size does not match the geometry in its header
  corrupt,            // header fields out of range, lying lengths or indexes
  invalid_argument,   // capacity / slot size / reserve out of range at creation
  no_space,           // ENOSPC / EFBIG while creating (nothing is left behind)
  busy,               // another consumer holds the inbox
  io_error,           // any other OS error
};

const char* to_string(errc) noexcept;

// The one reading of an errno from a file or directory call, for every layer (each message adds
// its own hint): the permission family (EROFS too: only another place helps), the no-space
// family (EDQUOT and EFBIG too), a symlink where none is followed, a missing file, and any
// other OS error.
errc errc_of_errno(int err) noexcept;

struct error {
  errc code;
  std::string message;  // one line a person can act on: what is wrong and what to do
};

// The value of a call that either succeeds with nothing to return or fails with a reason.
struct done {};

template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like expected
  result(error err) : v_(std::move(err)) {}  // NOLINT
  explicit operator bool() const noexcept { return std::holds_alternative<T>(v_); }
  bool has_value() const noexcept { return std::holds_alternative<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const error& err() const { return std::get<error>(v_); }

 private:
  std::variant<T, error> v_;
};

}  // namespace sluice::inbox
