#include "actors/bridge_frame_guard.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::actors {

bool basp_frame_guard::admit(const char* data, std::size_t n) noexcept {
  while (n > 0 && !broken_) {
    if (payload_left_ > 0) {
      const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(n, payload_left_));
      data += k;
      n -= k;
      payload_left_ -= k;
      continue;
    }
    const std::size_t k = std::min(n, basp_header_size - header_have_);
    std::memcpy(header_.data() + header_have_, data, k);
    header_have_ += k;
    data += k;
    n -= k;
    if (header_have_ < basp_header_size) break;
    header_have_ = 0;
    const unsigned char* len = header_.data() + basp_payload_len_offset;
    declared_ = (std::uint32_t{len[0]} << 24) | (std::uint32_t{len[1]} << 16) |
                (std::uint32_t{len[2]} << 8) | std::uint32_t{len[3]};
    if (declared_ > max_payload_) broken_ = true;
    payload_left_ = declared_;
  }
  return !broken_;
}

}  // namespace sluice::actors
