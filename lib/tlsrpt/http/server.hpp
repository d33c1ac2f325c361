// SPDX-License-Identifier: Apache-2.0
// The HTTP side: a small server on libmicrohttpd that the rest of the program gives handlers
// for paths. No libmicrohttpd type appears here: requests and responses are plain values.
//
// What the server bounds by itself, before any handler runs (issue 18):
//  - headers: size (max_header_bytes, libmicrohttpd's per-connection memory) and count;
//  - bodies: a declared Content-Length above max_body_size is answered 413 before one byte of
//    the body is read; a chunked body that grows past it closes the connection (HTTP gives no
//    way to answer in the middle of an upload, and reading on would be what the limit forbids);
//  - connections: max_connections are served; up to a quarter more (at least 16) are answered
//    503 with Retry-After and closed; beyond that libmicrohttpd refuses them at accept;
//  - time: request_timeout for the whole request, headers and body. Slow clients are cut off
//    at the deadline, not only after a silent gap (a byte every few seconds keeps an idle
//    timeout at bay forever).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spdlog {
class logger;
}

namespace tlsrpt::http {

// "http: cannot listen on 127.0.0.1:8460: Address already in use".
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// host:port, with IPv6 in brackets ("[::1]:8460"). Port 0 picks a free port.
struct listen_address {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const;  // as written: "127.0.0.1:8460", "[::1]:8460"
};
// Throws std::invalid_argument with a message naming what is wrong.
listen_address parse_listen(std::string_view text);

struct request {
  std::string_view method;
  std::string_view path;
  std::string_view version;  // "HTTP/1.1"
  std::string_view peer;     // the client's address, after trusted_proxies
  std::vector<std::pair<std::string, std::string>> headers;  // as received (names as sent)
  // The query string's arguments in order, percent-decoded (by libmicrohttpd); a key without
  // '=' has an empty value.
  std::vector<std::pair<std::string, std::string>> arguments;
  std::string_view body;  // POST only

  // The first header of that name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

struct response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // A one-line text answer ("stored", "database unavailable: ...").
  static response text(int status, std::string line);
};

using handler = std::function<response(const request&)>;
// Looks at a POST's headers before its body is read; an answer returned here is sent instead
// (415 for a content type the route does not take), and the body is never read.
using precheck = std::function<std::optional<response>(const request&)>;

struct options {
  std::vector<std::string> listen{"127.0.0.1:8460"};
  std::string tls_cert_pem;  // certificate chain (PEM text); empty: plain HTTP
  std::string tls_key_pem;
  // Whose X-Forwarded-For to believe: addresses or CIDR blocks ("10.0.0.0/8", "::1").
  std::vector<std::string> trusted_proxies;
  std::uint64_t max_body_size = 25ull * 1024 * 1024;
  unsigned max_connections = 256;
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  std::size_t max_header_bytes = 32 * 1024;  // request line and headers together
  std::size_t max_headers = 100;
  std::chrono::seconds retry_after{5};  // told to clients beyond max_connections
};

class server {
 public:
  explicit server(options opts, std::shared_ptr<spdlog::logger> log = nullptr);
  ~server();  // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Routes, registered before start(). Paths match exactly (no prefix, no query string).
  // GET routes answer HEAD too. Handlers run on the connection's thread, concurrently.
  void get(std::string path, handler h);
  void post(std::string path, handler h, precheck check = {});
  // Told of every answer the server sends: the route's path (or "other" for paths nobody
  // registered, so that scanners cannot grow a label set) and the status code.
  void on_response(std::function<void(std::string_view route, int status)> f);

  // Binds every listen address and starts serving. Throws error.
  void start();
  // Stops accepting and closes every connection. Idempotent.
  void stop() noexcept;
  // The addresses as bound (with the port picked when 0 was asked for).
  std::vector<listen_address> bound() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// Whether `address` (textual IPv4 or IPv6) lies in `block` ("10.0.0.0/8", "::1", "fd00::/8").
bool address_in(std::string_view address, std::string_view block);

}  // namespace tlsrpt::http
