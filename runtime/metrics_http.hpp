#pragma once
// `--http 127.0.0.1:9464`: serves GET /metrics (Prometheus text format 0.0.4) with
// Boost.Beast on one background thread. The body is rendered per scrape by the caller's
// function, so a scrape always sees the bus as it is, not as of the last monitor tick.
// Slow or silent clients are cut off after a few seconds; the server never blocks a monitor.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/endpoint.hpp"
#include "runtime/result.hpp"

namespace sluice::runtime {

// host: a numeric address, e.g. 127.0.0.1 or ::1; port 0: any free port (tests).
using http_endpoint = endpoint;

// Parses "host:port" or "[v6]:port" (parse_endpoint, then the host must be numeric); `what`
// names the flag in the error ("--http").
result<http_endpoint> parse_http_endpoint(std::string_view text, std::string_view what);

class metrics_http_server {
 public:
  using render_fn = std::function<std::string()>;

  // Binds and starts serving. Errors: invalid_argument (bad address), io_error (bind failed,
  // e.g. port in use: the message says which address).
  static result<std::unique_ptr<metrics_http_server>> start(const http_endpoint& at,
                                                            render_fn render);

  ~metrics_http_server();  // stops accepting, closes connections, joins the thread
  metrics_http_server(const metrics_http_server&) = delete;
  metrics_http_server& operator=(const metrics_http_server&) = delete;

  std::uint16_t port() const noexcept;  // the bound port (useful with port 0)

  struct impl;

 private:
  explicit metrics_http_server(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> p_;
};

}  // namespace sluice::runtime
