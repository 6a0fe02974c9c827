#pragma once
// policy.ctl: the governance state of a bus (store_layout.hpp has its bytes), mapped by every
// process that sends, acquires or shows limits. Created like bus.ctl: a fully initialised
// temp file linked into place (one winner of a creation race), 0600 or 0660 in a group bus,
// O_NOFOLLOW, validated on open, in a bus directory judged by runtime::check_bus_dir.
//
// Readers take no lock: the policy in force is one of two buffers, named by one atomic word
// (generation << 1 | buffer). `apply` writes the buffer not in force and publishes it with a
// release store; a reader copies the buffer and checks the word did not move meanwhile (and
// the image's checksum), else reads again. Appliers serialise on flock(2), which the kernel
// drops when a holder dies, so a SIGKILLed apply never wedges the next one.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "governance/compiled.hpp"
#include "governance/policy.hpp"
#include "governance/store_layout.hpp"
#include "inbox/files/shared_mapping.hpp"
#include "runtime/result.hpp"

namespace sluice::governance {

inline constexpr const char* policy_file_name = "policy.ctl";

class store {
 public:
  // Opens <dir>/policy.ctl. Errors: not_found (no policy was ever applied), path_is_symlink,
  // permission_denied, bad_magic, wrong_version, wrong_size.
  static runtime::result<store> open(const std::filesystem::path& dir);
  // Opens it, or creates an empty one (no policy in force).
  static runtime::result<store> open_or_create(const std::filesystem::path& dir);

  store(store&&) noexcept;
  store& operator=(store&&) noexcept;
  ~store();

  // Compiles `p` into the buffer not in force and publishes it; returns the new generation.
  // Rules and limits keep their state (counters, quota usage, leases) by name; a limiter whose
  // parameters changed starts afresh.
  runtime::result<std::uint64_t> apply(const policy& p, const std::string& source);

  // The generation in force now (0: none). One atomic load: senders call it on every send.
  [[nodiscard]] std::uint64_t generation() const noexcept;

  // The policy in force, decoded once per generation and cached in this object. nullptr when
  // none was applied. An image that fails its checks is an error (what is wrong with it).
  runtime::result<const compiled_policy*> current();

  layout::file& raw() noexcept { return *file_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  store(inbox::shared_mapping map, std::filesystem::path path) noexcept;
  inbox::shared_mapping map_;
  layout::file* file_ = nullptr;
  std::filesystem::path path_;
  std::unique_ptr<compiled_policy> cached_;
};

// The state slot for a name hash among `count` slots of stride words: found, or claimed.
// Appliers only (under the apply lock).
std::optional<std::uint32_t> claim_slot(std::atomic<std::uint64_t>* first_key,
                                        std::size_t stride_bytes, std::uint32_t count,
                                        std::uint64_t key) noexcept;

}  // namespace sluice::governance
