#include "cli/message_json.hpp"

#include <nlohmann/json.hpp>

namespace sluice::cli {

namespace {

void append_quoted(std::string& out, std::string_view text) {
  out += nlohmann::json(std::string(text))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++p;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= n) return false;
    for (std::size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr std::uint32_t min_for_length[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void append_payload(std::string& out, std::string_view payload, payload_encoding e) {
  switch (e) {
    case payload_encoding::json:
      out.append(payload);  // exactly as sent: big numbers, key order, spacing
      return;
    case payload_encoding::text:
      append_quoted(out, payload);
      return;
    case payload_encoding::base64:
      out += '"';
      out += base64(payload);
      out += '"';
      return;
  }
}

}  // namespace

message_fields fields_of(const inbox::received_message& m, std::string_view to) noexcept {
  return {m.id, m.sequence, m.sent_ns, m.prio, m.from, to, m.type, m.payload};
}

message_fields fields_of(const inbox::message& m, std::string_view to) noexcept {
  return {m.id, m.sequence, m.sent_ns, m.prio, m.from, to, m.type, m.payload};
}

const char* to_string(payload_encoding e) noexcept {
  switch (e) {
    case payload_encoding::json:
      return "json";
    case payload_encoding::text:
      return "text";
    case payload_encoding::base64:
      return "base64";
  }
  return "unknown";
}

payload_encoding encoding_of(std::string_view payload) {
  if (!is_utf8(payload)) return payload_encoding::base64;
  // One line, so a jsonl line stays one line; accept() runs the SAX acceptor: iterative,
  // builds no tree.
  if (payload.find_first_of("\r\n") == std::string_view::npos && nlohmann::json::accept(payload))
    return payload_encoding::json;
  return payload_encoding::text;
}

std::optional<std::string> render_raw0(const std::vector<message_fields>& batch) {
  std::string out;
  for (const auto& m : batch) {
    if (m.payload.find('\0') != std::string_view::npos) return std::nullopt;
    out.append(m.payload);
    out += '\0';
  }
  return out;
}

std::string render_netstrings(const std::vector<message_fields>& batch) {
  std::string out;
  for (const auto& m : batch) {
    out += std::to_string(m.payload.size());
    out += ':';
    out.append(m.payload);
    out += ',';
  }
  return out;
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
  const payload_encoding e = encoding_of(m.payload);
  out += "\",\"encoding\":\"";
  out += to_string(e);
  out += "\",\"payload\":";
  append_payload(out, m.payload, e);
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
