#include "runtime/cli/bus_access.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "inbox/layout.hpp"
#include "runtime/bus_dir.hpp"

namespace sluice::cli {

inbox::bus_sharing sharing_of(const global_options& globals) noexcept {
  return globals.group ? inbox::bus_sharing::group : inbox::bus_sharing::private_bus;
}

namespace {

// A missing bus is every verb's own business (created, or read as empty).
void require_trusted(const std::filesystem::path& dir, const global_options& globals) {
  auto e = inbox::check_bus_directory(dir, sharing_of(globals));
  if (e && e->code != inbox::errc::not_found) fail(*e);
}

}  // namespace

std::filesystem::path resolve_bus_dir(const global_options& globals) {
  auto dir = take(runtime::resolve_bus({globals.dir, globals.bus})).dir;
  require_trusted(dir, globals);
  return dir;
}

std::string quote(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void require_agent_name(std::string_view name, std::string_view role) {
  if (inbox::is_valid_agent_name(name)) return;
  throw cli_error{exit_code::bad_input,
                  "invalid agent name " + quote(name) + " for " + std::string(role) + ": use 1-" +
                      std::to_string(inbox::max_agent_name) + " characters from A-Z a-z 0-9 _ -"};
}

void fail(const inbox::error& err) {
  throw cli_error{runtime::exit_code_for(err.code), err.message};
}

void fail_broken(const inbox::inbox& box) {
  throw cli_error{exit_code::io_error,
                  box.path().string() +
                      " shrank or lost its memory while in use (truncated, or its filesystem is "
                      "full): stopped, nothing more was read or committed; run sluice doctor"};
}

namespace {

bool in_my_groups(gid_t gid) {
  if (gid == getegid()) return true;
  const int n = getgroups(0, nullptr);
  if (n <= 0) return false;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  const int got = getgroups(n, groups.data());
  for (int i = 0; i < got; ++i) {
    if (groups[static_cast<std::size_t>(i)] == gid) return true;
  }
  return false;
}

// Root can open anything, so permission bits alone would let `sudo sluice recv` consume an
// agent's inbox by accident; the rule is explicit instead: an inbox belongs to its owner,
// and is shared only when created with --group (mode 0660) and opened with --group by a
// member of the file's group.
void check_owner(const std::filesystem::path& file, const global_options& globals) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) return;  // missing: the open call reports it
  if (st.st_uid == geteuid()) return;
  const bool shared = globals.group && (st.st_mode & 0060) == 0060 && in_my_groups(st.st_gid);
  if (shared) return;
  throw cli_error{exit_code::no_permission,
                  "inbox " + file.string() + " is owned by uid " + std::to_string(st.st_uid) +
                      ", not by you (uid " + std::to_string(geteuid()) +
                      "): run as its owner, or share the bus with --group (inboxes 0660)"};
}

}  // namespace

std::optional<inbox::inbox> open_existing(const std::filesystem::path& dir, std::string_view agent,
                                          const global_options& globals) {
  // The bus directory was judged with the caller's --group by resolve_bus_dir; inbox::open
  // accepts a group bus of the caller's groups whatever was asked, so a group bus that
  // appeared since then gives nothing away: check_owner still refuses anyone else's inbox.
  check_owner(runtime::inbox_file(dir, agent), globals);
  auto opened = inbox::inbox::open(dir, agent);
  if (!opened) {
    if (opened.err().code == inbox::errc::not_found) return std::nullopt;
    fail(opened.err());
  }
  return std::move(opened).value();
}

inbox::inbox open_or_create(const std::filesystem::path& dir, std::string_view agent,
                            runtime::config& config, const global_options& globals) {
  return open_or_create(dir, agent, config, globals, open_existing(dir, agent, globals));
}

std::uint32_t new_inbox_max_payload(runtime::config& config) {
  return inbox::layout::max_payload_of(take(config.slot_size()));
}

inbox::inbox open_or_create(const std::filesystem::path& dir, std::string_view agent,
                            runtime::config& config, const global_options& globals,
                            std::optional<inbox::inbox> existing) {
  // Validate the configuration before touching the disk, so a bad MAX_INBOX_SIZE leaves
  // nothing behind.
  inbox::create_options opts = take(config.new_inbox_options());
  opts.mode = globals.group ? 0660 : 0600;

  if (existing) {
    if (existing->capacity() != opts.capacity &&
        config.source_of(runtime::knob::max_inbox_size) != "default") {
      spdlog::warn(
          "inbox {} was created with capacity {}, not MAX_INBOX_SIZE={} ({}): using {}; "
          "recreate it (sluice cleanup {}) to change its size",
          std::string(agent), existing->capacity(), opts.capacity,
          config.source_of(runtime::knob::max_inbox_size), existing->capacity(),
          std::string(agent));
    }
    return std::move(*existing);
  }
  // The inbox's mode makes the bus a group bus or a private one (inbox::sharing_of_mode).
  auto created = take(inbox::inbox::open_or_create(dir, agent, opts));
  // Another process may have created it between our open and create; its capacity wins.
  if (created.capacity() != opts.capacity) {
    spdlog::warn("inbox {} was created concurrently with capacity {}: using it", std::string(agent),
                 created.capacity());
  }
  return created;
}

}  // namespace sluice::cli
