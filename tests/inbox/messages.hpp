#pragma once
// Messages for the inbox tests: a short one by payload, and the tagged payload of the
// multi-process tests (who sent it and its number in that sender's stream).
#include <cstdint>
#include <cstring>
#include <string_view>

#include "inbox/inbox.hpp"

namespace sluice::inbox::testing {

inline message_view msg(std::string_view payload, priority p = priority::normal,
                        std::string_view from = "tester", std::string_view type = "note") {
  return message_view{from, type, payload, p};
}

struct tagged {
  std::uint32_t producer;
  std::uint32_t pad;
  std::uint64_t seq;
};

inline std::string_view as_payload(const tagged& t) {
  return {reinterpret_cast<const char*>(&t), sizeof t};
}

inline bool parse(std::string_view payload, tagged& out) {
  if (payload.size() != sizeof(tagged)) return false;
  std::memcpy(&out, payload.data(), sizeof out);
  return true;
}

}  // namespace sluice::inbox::testing
