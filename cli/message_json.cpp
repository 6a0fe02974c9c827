#include "cli/message_json.hpp"

#include <nlohmann/json.hpp>

namespace sluice::cli {

namespace {

void append_quoted(std::string& out, std::string_view text) {
  out += nlohmann::json(std::string(text))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Valid JSON is embedded as written, minus the whitespace between tokens (so a jsonl line
// stays one line). Copying the text instead of re-serialising a parsed tree keeps big
// integers exact, key order and duplicates as sent, and needs no recursion for deep nesting.
void append_minified_json(std::string& out, std::string_view json_text) {
  bool in_string = false;
  bool escaped = false;
  for (const char c : json_text) {
    if (in_string) {
      out += c;
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '"') in_string = true;
    out += c;
  }
}

void append_payload(std::string& out, std::string_view payload) {
  // accept() runs the SAX acceptor: iterative, builds no tree.
  if (nlohmann::json::accept(payload)) {
    append_minified_json(out, payload);
  } else {
    append_quoted(out, payload);
  }
}

}  // namespace

message_fields fields_of(const inbox::received_message& m, std::string_view to) noexcept {
  return {m.id, m.sequence, m.sent_ns, m.prio, m.from, to, m.type, m.payload};
}

message_fields fields_of(const inbox::message& m, std::string_view to) noexcept {
  return {m.id, m.sequence, m.sent_ns, m.prio, m.from, to, m.type, m.payload};
}

std::string format_msg_id(std::uint64_t id) {
  return std::to_string(id);
}

std::string to_json_line(const message_fields& m) {
  std::string out;
  out.reserve(160 + m.payload.size());
  out += "{\"version\":";
  out += std::to_string(message_json_version);
  out += ",\"msg_id\":\"";
  out += format_msg_id(m.id);
  out += "\",\"from\":";
  append_quoted(out, m.from);
  out += ",\"to\":";
  append_quoted(out, m.to);
  out += ",\"timestamp\":";
  out += std::to_string(m.sent_ns / 1'000'000);
  out += ",\"sequence\":";
  out += std::to_string(m.sequence);
  out += ",\"type\":";
  append_quoted(out, m.type);
  out += ",\"priority\":\"";
  out += inbox::to_string(m.prio);
  out += "\",\"payload\":";
  append_payload(out, m.payload);
  out += '}';
  return out;
}

std::string render_batch(const std::vector<message_fields>& batch, bool jsonl) {
  std::string out;
  if (jsonl) {
    for (const auto& m : batch) {
      out += to_json_line(m);
      out += '\n';
    }
    return out;
  }
  out += '[';
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) out += ',';
    out += to_json_line(batch[i]);
  }
  out += "]\n";
  return out;
}

}  // namespace sluice::cli
