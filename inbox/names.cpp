// Names and enum spellings shared by every layer (agent names, priorities, results, errors).
#include <cerrno>
#include <string_view>

#include "inbox/inbox.hpp"

namespace sluice::inbox {

bool is_valid_agent_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_agent_name) return false;
  for (const char ch : name) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

const char* to_string(priority p) noexcept {
  const auto lane = static_cast<std::size_t>(p);
  return lane < lane_count ? lane_table[lane].name : "unknown";
}

std::optional<priority> parse_priority(std::string_view s) noexcept {
  for (std::size_t lane = 0; lane < lane_count; ++lane)
    if (s == lane_table[lane].name) return static_cast<priority>(lane);
  return std::nullopt;
}

const char* to_string(push_result r) noexcept {
  switch (r) {
    case push_result::ok:
      return "ok";
    case push_result::full:
      return "full";
    case push_result::too_large:
      return "too_large";
    case push_result::closed:
      return "closed";
    case push_result::no_space:
      return "no_space";
    case push_result::broken:
      return "broken";
  }
  return "unknown";
}

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::invalid_name:
      return "invalid_name";
    case errc::path_is_symlink:
      return "path_is_symlink";
    case errc::not_found:
      return "not_found";
    case errc::permission_denied:
      return "permission_denied";
    case errc::bad_magic:
      return "bad_magic";
    case errc::wrong_version:
      return "wrong_version";
    case errc::wrong_size:
      return "wrong_size";
    case errc::corrupt:
      return "corrupt";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::no_space:
      return "no_space";
    case errc::busy:
      return "busy";
    case errc::io_error:
      return "io_error";
  }
  return "unknown";
}

errc errc_of_errno(int err) noexcept {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return errc::permission_denied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return errc::no_space;
    case ELOOP:
      return errc::path_is_symlink;
    case ENOENT:
      return errc::not_found;
    default:
      return errc::io_error;
  }
}

}  // namespace sluice::inbox
