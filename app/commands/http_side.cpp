// SPDX-License-Identifier: Apache-2.0
#include "http_side.hpp"

#if TLSRPT_HAVE_HTTP
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "limits.hpp"
#include "tlsrpt/http/health.hpp"
#include "tlsrpt/http/receiver.hpp"
#include "tlsrpt/store/pg_store.hpp"

namespace tlsrpt::app {

namespace {

std::string read_pem(const std::string& path, const char* key) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || ss.str().empty())
    throw failure(exit_code::config, std::string("http: cannot read http.") + key + " " + path +
                                         ": " +
                                         (in ? "the file is empty" : "cannot open the file"));
  return ss.str();
}

}  // namespace

http_side::~http_side() {
  if (server) server->stop();
}

std::unique_ptr<http_side> start_http_side(context& ctx,
                                           const std::function<void(http::server&)>& extra_routes) {
  const auto& c = ctx.cfg();
  if (!c.http) return nullptr;
  const config::http_server& h = *c.http;
  auto log = ctx.log();
  const std::string url = ctx.database_url();

  auto side = std::make_unique<http_side>();
  side->metrics = std::make_unique<http::metrics>(TLSRPT_VERSION);
  for (const auto& m : c.mailboxes) side->metrics->declare_mailbox(m.name);

  collector::intake::options io;
  // An HTTPS report is its body: the body limit is the message limit.
  const auto pl = processing_limits_of(c.lim, h.max_body_size, c.lim.max_report_size);
  io.limits.mime = pl.mime;
  io.limits.report = pl.report;
  side->intake = std::make_unique<collector::intake>(
      [url] { return std::make_unique<store::pg_store>(url); }, io, log, side->metrics.get());

  http::options so;
  so.listen = h.listen;
  if (h.tls_cert) so.tls_cert_pem = read_pem(*h.tls_cert, "tls_cert");
  if (h.tls_key) so.tls_key_pem = read_pem(*h.tls_key, "tls_key");
  so.trusted_proxies = h.trusted_proxies;
  so.max_body_size = h.max_body_size;
  so.max_connections = h.max_connections;
  so.request_timeout = h.request_timeout;
  side->server = std::make_unique<http::server>(so, log);
  http::server& s = *side->server;
  http::metrics& m = *side->metrics;
  s.on_response([&m](std::string_view route, int code) { m.on_http_response(route, code); });

  http::receiver_options ro;
  ro.path = h.report_path;
  http::add_report_receiver(s, *side->intake, ro);
  http::add_metrics_endpoint(s, m);
  http::health_options ho;
  ho.check_database = [url]() -> std::optional<std::string> {
    try {
      (void)store::check_connection(url);
      return std::nullopt;
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  };
  http::add_health_endpoints(s, m, std::move(ho));
  if (extra_routes) extra_routes(s);

  s.start();
  const char* scheme = h.tls_cert ? "https" : "http";
  for (const auto& a : s.bound()) {
    log->info("http: listening on {}://{}{} (reports), /metrics, /healthz, /readyz", scheme,
              a.text(), h.report_path);
  }
  return side;
}

}  // namespace tlsrpt::app
#endif
