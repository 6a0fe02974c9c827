#include "runtime/metrics_http.hpp"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <stdexcept>

using namespace sluice::runtime;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

http::response<http::string_body> fetch(std::uint16_t port, http::verb verb, const char* target) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return res;
}

// A HEAD request's answer: the headers only (a HEAD response has no body, whatever its length).
http::response<http::empty_body> fetch_head(std::uint16_t port, const char* target) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::head, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);
  http::read(stream, buf, parser);
  return parser.release();
}

}  // namespace

TEST_CASE("HEAD /metrics answers 200 with the headers a GET gets and no body") {
  auto server = metrics_http_server::start({"127.0.0.1", 0}, [] { return std::string("x 1\n"); });
  REQUIRE(server);
  const auto res = fetch_head(server.value()->port(), "/metrics");
  CHECK(res.result() == http::status::ok);
  CHECK(res[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(res[http::field::content_length] == "4");
}

TEST_CASE("the metrics endpoint serves freshly rendered Prometheus text on GET /metrics") {
  std::atomic<int> renders{0};
  auto server = metrics_http_server::start(
      {"127.0.0.1", 0}, [&] { return "sluice_batch_size " + std::to_string(++renders) + "\n"; });
  REQUIRE(server);
  const auto port = server.value()->port();
  REQUIRE(port != 0);
  auto first = fetch(port, http::verb::get, "/metrics");
  CHECK(first.result() == http::status::ok);
  CHECK(first[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(first.body() == "sluice_batch_size 1\n");
  CHECK(fetch(port, http::verb::get, "/metrics").body() == "sluice_batch_size 2\n");
}

TEST_CASE(
    "the metrics endpoint answers 404 elsewhere, 405 to other methods, 500 when rendering throws") {
  std::atomic<bool> fail{false};
  auto server = metrics_http_server::start({"127.0.0.1", 0}, [&]() -> std::string {
    if (fail) throw std::runtime_error("bus gone");
    return "x 1\n";
  });
  REQUIRE(server);
  const auto port = server.value()->port();
  CHECK(fetch(port, http::verb::get, "/nope").result() == http::status::not_found);
  CHECK(fetch(port, http::verb::post, "/metrics").result() == http::status::method_not_allowed);
  fail = true;
  auto res = fetch(port, http::verb::get, "/metrics");
  CHECK(res.result() == http::status::internal_server_error);
  CHECK(res.body().find("bus gone") != std::string::npos);
}

TEST_CASE("a port already in use is an error that names the address") {
  auto first = metrics_http_server::start({"127.0.0.1", 0}, [] { return std::string(); });
  REQUIRE(first);
  const auto port = first.value()->port();
  auto second = metrics_http_server::start({"127.0.0.1", port}, [] { return std::string(); });
  REQUIRE_FALSE(second);
  CHECK(second.err().code == errc::io_error);
  CHECK(second.err().message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("http endpoints parse host:port and reject names and bad ports") {
  auto ok = parse_http_endpoint("127.0.0.1:9464", "--http");
  REQUIRE(ok);
  CHECK(ok->host == "127.0.0.1");
  CHECK(ok->port == 9464);
  auto v6 = parse_http_endpoint("[::1]:9000", "--http");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK_FALSE(parse_http_endpoint("localhost:9464", "--http"));
  CHECK_FALSE(parse_http_endpoint("127.0.0.1:99999", "--http"));
  CHECK_FALSE(parse_http_endpoint("127.0.0.1", "--http"));
  auto bad = parse_http_endpoint("127.0.0.1:x", "--http");
  REQUIRE_FALSE(bad);
  CHECK(bad.err().message.find("--http") != std::string::npos);
}
