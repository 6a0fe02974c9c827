#pragma once
// CAF's TCP policy for a plaintext bridge connection, reading ahead (capped_scribe.cpp uses it).
//
// BASP asks for a 32-byte header, then for the payload it announces, then for the next header:
// a recv each, and a last one that finds the socket empty. Here one recv into a buffer of this
// policy's own serves a quiet link's whole frame, and its coming back short says the socket is
// empty, which saves the last one: read_some then answers "nothing" without a system call, and
// CAF's loop waits for the socket instead (level-triggered, so whatever arrived since shows
// readable again). must_read_more keeps CAF's loop going past its max-consecutive-reads until
// the buffer is served, so nothing waits in it for an event that never comes. A read of the
// buffer's size or more goes straight into CAF's buffer.
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/rw_state.hpp>
#include <cstddef>
#include <vector>

namespace sluice::actors {

class read_ahead_tcp {
 public:
  static constexpr std::size_t buffer_size = 16 * 1024;

  caf::io::network::rw_state read_some(std::size_t& result, caf::io::network::native_socket fd,
                                       void* buf, std::size_t len);
  caf::io::network::rw_state write_some(std::size_t& result, caf::io::network::native_socket fd,
                                        const void* buf, std::size_t len);
  bool try_accept(caf::io::network::native_socket&, caf::io::network::native_socket) {
    return false;  // never a doorman
  }
  bool must_read_more(caf::io::network::native_socket, std::size_t) const noexcept {
    return begin_ != end_;
  }

 private:
  std::vector<char> ahead_ = std::vector<char>(buffer_size);
  std::size_t begin_ = 0;  // what CAF has not taken yet: ahead_[begin_, end_)
  std::size_t end_ = 0;
  bool drained_ = false;  // the last recv came back short
};

}  // namespace sluice::actors
