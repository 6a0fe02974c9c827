#pragma once
// The message JSON that recv and peek print, in the bash tool's shape plus a version:
//   {"version":1,"msg_id":"...","from":...,"to":...,"timestamp":<ms since epoch>,
//    "sequence":...,"type":...,"priority":"normal","payload":...}
// msg_id is a decimal string, not a number, because jq reads numbers as doubles and would
// round ids above 2^53. The payload is embedded as JSON when it parses as JSON (losslessly:
// a top-level number that would not print back as written stays a string), else as a string.
#include <string>
#include <string_view>
#include <vector>

#include "inbox/inbox.hpp"

namespace sluice::cli {

inline constexpr int message_json_version = 1;

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

// One message as a single line of JSON (no trailing newline). Bytes that are not UTF-8 (a
// C++ agent may send binary) become U+FFFD rather than aborting the whole batch.
std::string to_json_line(const message_fields& m);

// A batch: a JSON array (`[]` when empty), or with jsonl one object per line; both end with
// a newline so a shell reading lines sees the last one.
std::string render_batch(const std::vector<message_fields>& batch, bool jsonl);

// The id as printed in msg_id and by `send --print-id`.
std::string format_msg_id(std::uint64_t id);

}  // namespace sluice::cli
