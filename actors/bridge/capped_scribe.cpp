#include "actors/bridge/capped_scribe.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/scribe_impl.hpp>

namespace sluice::actors {

namespace {

class capped_scribe final : public caf::io::network::scribe_impl {
 public:
  capped_scribe(caf::io::network::default_multiplexer& mx, int fd, std::string bridge,
                std::string peer, std::string remote, std::uint32_t max_payload)
      : scribe_impl(mx, fd),
        bridge_(std::move(bridge)),
        peer_(std::move(peer)),
        remote_(std::move(remote)),
        max_read_(std::max<std::size_t>(basp_header_size, max_payload)) {}

  // The broker's request for the next read; for BASP, the announced payload length. Above the
  // cap it is not passed on, so nothing is allocated: the connection is shut down instead, and
  // the broker sees it closed (or, if bytes are still buffered, a short payload, which it
  // rejects as malformed and closes).
  void configure_read(caf::io::receive_policy::config config) override {
    if (config.second <= max_read_) return scribe_impl::configure_read(config);
    if (!cut_) {
      cut_ = true;
      spdlog::warn(
          "bridge {}: closed the connection to '{}' ({}): it announced a CAF frame of {} bytes; "
          "a bridge sends at most {}",
          bridge_, peer_, remote_, config.second, max_read_);
      cut();
    }
  }

  void cut() noexcept { ::shutdown(stream_.fd(), SHUT_RDWR); }

 private:
  std::string bridge_;
  std::string peer_;
  std::string remote_;
  std::size_t max_read_;
  bool cut_ = false;  // only touched on CAF's I/O thread, in configure_read
};

}  // namespace

caf::io::scribe_ptr make_capped_scribe(caf::actor_system& sys, admitted_connection& conn,
                                       const std::string& bridge, std::uint32_t max_payload) {
  auto& mx = static_cast<caf::io::network::default_multiplexer&>(sys.middleman().backend());
  const int fd = conn.socket.release();
  // As default_multiplexer::new_scribe does for the sockets CAF opens itself.
  (void)caf::io::network::keepalive(fd, true);
  return caf::make_counted<capped_scribe>(mx, fd, bridge, conn.peer, conn.remote, max_payload);
}

void cut_connection(const caf::io::scribe_ptr& scribe) noexcept {
  if (auto* s = dynamic_cast<capped_scribe*>(scribe.get())) s->cut();
}

}  // namespace sluice::actors
