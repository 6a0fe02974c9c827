#include "runtime/metrics_http.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <thread>

namespace sluice::runtime {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto io_timeout = std::chrono::seconds(5);
constexpr const char* prom_content_type = "text/plain; version=0.0.4; charset=utf-8";

http::response<http::string_body> answer(const http::request<http::string_body>& req,
                                         const metrics_http_server::render_fn& render) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::server, "sluice");
  res.keep_alive(false);
  const auto target = req.target();
  const bool head = req.method() == http::verb::head;
  if (req.method() != http::verb::get && !head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "only GET or HEAD /metrics\n";
  } else if (target == "/metrics" || target.starts_with("/metrics?")) {
    res.set(http::field::content_type, prom_content_type);
    try {
      res.body() = render();
    } catch (const std::exception& e) {
      res.result(http::status::internal_server_error);
      res.body() = std::string("rendering metrics failed: ") + e.what() + "\n";
    }
  } else if (target == "/") {
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.body() = "<html><body><a href=\"/metrics\">/metrics</a></body></html>\n";
  } else {
    res.result(http::status::not_found);
    res.body() = "not found; metrics are at /metrics\n";
  }
  res.prepare_payload();
  if (head) {  // the headers a GET would get, Content-Length included, and no body
    const auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

// One connection: read one request (with a deadline), write one response, close.
class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket s, const metrics_http_server::render_fn& render)
      : stream_(std::move(s)), render_(render) {}

  void run() {
    stream_.expires_after(io_timeout);
    http::async_read(
        stream_, buffer_, req_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec) return;  // timeout or client gone: nothing to answer
    res_ = answer(req_, render_);
    stream_.expires_after(io_timeout);
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  const metrics_http_server::render_fn& render_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

}  // namespace

struct metrics_http_server::impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  metrics_http_server::render_fn render;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<session>(std::move(s), render)->run();
      accept();
    });
  }
};

result<http_endpoint> parse_http_endpoint(std::string_view text, std::string_view what) {
  auto at = parse_endpoint(text, true);
  if (!at) return error{at.err().code, std::string(what) + " " + at.err().message};
  if (at->host.size() >= 2 && at->host.front() == '[' && at->host.back() == ']')
    at->host = at->host.substr(1, at->host.size() - 2);
  beast::error_code aec;
  asio::ip::make_address(at->host, aec);
  if (aec)
    return error{errc::invalid_argument, std::string(what) + " '" + std::string(text) +
                                             "': the host must be a numeric IPv4 or IPv6 "
                                             "address, e.g. 127.0.0.1:9464"};
  return std::move(at.value());
}

result<std::unique_ptr<metrics_http_server>> metrics_http_server::start(const http_endpoint& at,
                                                                        render_fn render) {
  auto p = std::make_unique<impl>();
  p->render = std::move(render);
  beast::error_code ec;
  const auto address = asio::ip::make_address(at.host, ec);
  if (ec) return error{errc::invalid_argument, "--http " + at.host + ": not a numeric address"};
  const tcp::endpoint ep{address, at.port};
  const auto where = at.host + ":" + std::to_string(at.port);
  p->acceptor.open(ep.protocol(), ec);
  if (!ec) p->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(ep, ec);
  if (!ec) p->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return error{errc::io_error, "cannot serve metrics on " + where + ": " + ec.message() +
                                     " (pick another --http address or port)"};
  p->accept();
  p->thread = std::thread([raw = p.get()] {
    try {
      raw->io.run();
    } catch (const std::exception& e) {
      spdlog::error("metrics http server stopped: {}", e.what());
    }
  });
  spdlog::info("serving Prometheus metrics on http://{}:{}/metrics", at.host,
               p->acceptor.local_endpoint().port());
  return std::unique_ptr<metrics_http_server>(new metrics_http_server(std::move(p)));
}

metrics_http_server::metrics_http_server(std::unique_ptr<impl> p) noexcept : p_(std::move(p)) {}

metrics_http_server::~metrics_http_server() {
  // Everything runs on the io thread; once it has stopped, destroying impl closes the
  // acceptor and every open session.
  p_->io.stop();
  if (p_->thread.joinable()) p_->thread.join();
}

std::uint16_t metrics_http_server::port() const noexcept {
  beast::error_code ec;
  const auto ep = p_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace sluice::runtime
