#pragma once
// The message JSON that recv and peek print, in the bash tool's shape plus a version and the
// payload's encoding:
//   {"version":2,"msg_id":"...","from":...,"to":...,"timestamp":<ms since epoch>,
//    "sequence":...,"type":...,"priority":"normal","encoding":"json","payload":...}
// msg_id is a decimal string, not a number, because jq reads numbers as doubles and would
// round ids above 2^53. Every payload round-trips byte for byte, by its encoding:
//   json    valid JSON on one line: embedded as the JSON value, exactly as it was sent
//   text    any other valid UTF-8 (plain text, or JSON with line breaks): a JSON string
//   base64  bytes that are not UTF-8: a JSON string of their base64 (RFC 4648, padded)
// The raw forms (recv --raw, --netstring) print the payload bytes alone.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inbox/inbox.hpp"

namespace sluice::cli {

inline constexpr int message_json_version = 2;

enum class payload_encoding { json, text, base64 };
const char* to_string(payload_encoding) noexcept;
payload_encoding encoding_of(std::string_view payload);

struct message_fields {
  std::uint64_t id;
  std::uint64_t sequence;
  std::uint64_t sent_ns;
  inbox::priority prio;
  std::string_view from;
  std::string_view to;
  std::string_view type;
  std::string_view payload;
};

message_fields fields_of(const inbox::received_message& m, std::string_view to) noexcept;
message_fields fields_of(const inbox::message& m, std::string_view to) noexcept;

// One message as a single line of JSON (no trailing newline).
std::string to_json_line(const message_fields& m);

// A batch: a JSON array (`[]` when empty), or with jsonl one object per line; both end with
// a newline so a shell reading lines sees the last one.
std::string render_batch(const std::vector<message_fields>& batch, bool jsonl);

// Payloads only: each followed by a NUL byte (for `xargs -0` and `read -d ''`), or as
// netstrings (`<length>:<bytes>,`), which hold any bytes. nullopt from raw0 when a payload
// contains a NUL byte itself (it could not be told apart): nothing is printed then.
std::optional<std::string> render_raw0(const std::vector<message_fields>& batch);
std::string render_netstrings(const std::vector<message_fields>& batch);

// The id as printed in msg_id and by `send --print-id`.
std::string format_msg_id(std::uint64_t id);

}  // namespace sluice::cli
