#include "actors/bridge/read_ahead.hpp"

#include <algorithm>
#include <caf/policy/tcp.hpp>
#include <cstring>

namespace sluice::actors {

namespace net = caf::io::network;

net::rw_state read_ahead_tcp::read_some(std::size_t& result, net::native_socket fd, void* buf,
                                        std::size_t len) {
  result = 0;
  if (begin_ == end_) {
    if (drained_) {
      drained_ = false;
      return net::rw_state::success;  // nothing read: CAF goes back to the loop
    }
    const bool direct = len >= ahead_.size();
    std::size_t got = 0;
    const auto r = caf::policy::tcp::read_some(got, fd, direct ? buf : ahead_.data(),
                                               direct ? len : ahead_.size());
    if (r != net::rw_state::success) return r;
    drained_ = got < (direct ? len : ahead_.size());
    if (direct) {
      result = got;
      return r;
    }
    begin_ = 0;
    end_ = got;
  }
  result = std::min(len, end_ - begin_);
  std::memcpy(buf, ahead_.data() + begin_, result);
  begin_ += result;
  return net::rw_state::success;
}

net::rw_state read_ahead_tcp::write_some(std::size_t& result, net::native_socket fd,
                                         const void* buf, std::size_t len) {
  return caf::policy::tcp::write_some(result, fd, buf, len);
}

}  // namespace sluice::actors
