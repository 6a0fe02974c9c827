#pragma once
// What every verb does before touching an inbox: resolve the bus directory, validate names,
// open inboxes with the ownership rule, and turn a lower layer's error into an exit code.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "inbox/files/bus_directory.hpp"
#include "inbox/inbox.hpp"
#include "runtime/cli/verb.hpp"
#include "runtime/config.hpp"

namespace sluice::cli {

// The bus directory from --dir/--bus/SLUICE_DIR/SLUICE_BUS. When it exists it must be one the
// caller may trust (inbox/bus_directory.hpp; a group bus only with --group), else the verb
// ends here with exit 77 before any file in it (sluice.toml included) is read.
std::filesystem::path resolve_bus_dir(const global_options& globals);

// --group: a group bus; otherwise a private one.
inbox::bus_sharing sharing_of(const global_options& globals) noexcept;

// Throws cli_error(bad_input) naming the role ("to", "agent") and the allowed characters.
void require_agent_name(std::string_view name, std::string_view role);

[[noreturn]] void fail(const inbox::error& err);

// Exits (io_error) for an inbox whose file shrank or lost its memory while open
// (inbox::broken()): one line naming the file, what to check and that nothing more was done.
[[noreturn]] void fail_broken(const inbox::inbox& box);

// A JSON-quoted copy for error messages, so spaces, control bytes and broken UTF-8 show.
std::string quote(std::string_view text);

// The inbox when its file exists, nullopt when it does not (read-only verbs treat a missing
// inbox as empty). Refuses another user's inbox (see check_owner). dir comes from
// resolve_bus_dir, which judged it.
std::optional<inbox::inbox> open_existing(const std::filesystem::path& dir, std::string_view agent,
                                          const global_options& globals);

// Creates the bus directory (a group bus with --group) and the inbox (0660 with --group)
// when missing, with the geometry from config
// (MAX_INBOX_SIZE, slot size, critical reserve). An existing inbox keeps its own capacity; if
// MAX_INBOX_SIZE was set to something else, a warning says so.
inbox::inbox open_or_create(const std::filesystem::path& dir, std::string_view agent,
                            runtime::config& config, const global_options& globals);

// The same, for a caller that already looked with open_existing (send does, to refuse a
// payload the inbox cannot take before anything is created).
inbox::inbox open_or_create(const std::filesystem::path& dir, std::string_view agent,
                            runtime::config& config, const global_options& globals,
                            std::optional<inbox::inbox> existing);

// The largest payload an inbox created now would take (slot size minus the slot header).
std::uint32_t new_inbox_max_payload(runtime::config& config);

// Unwraps a runtime/inbox result or exits through fail().
template <class T>
T take(inbox::result<T>&& r) {
  if (!r) fail(r.err());
  return std::move(r).value();
}

}  // namespace sluice::cli
