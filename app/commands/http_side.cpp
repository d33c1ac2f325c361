// SPDX-License-Identifier: Apache-2.0
#include "http_side.hpp"

#if TLSRPT_HAVE_HTTP
#include <spdlog/spdlog.h>

#include <cctype>
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

// The query string again from the server's decoded arguments, for dashboard::site (which
// takes the query as sent, so that it stays free of the server's types).
std::string query_of(const http::request& rq) {
  static constexpr char hex[] = "0123456789ABCDEF";
  const auto encode = [](std::string& out, const std::string& s) {
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += ch;
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
  };
  std::string q;
  for (const auto& [k, v] : rq.arguments) {
    if (!q.empty()) q += '&';
    encode(q, k);
    q += '=';
    encode(q, v);
  }
  return q;
}

void add_dashboard(http::server& s, const dashboard::site& site) {
  for (const auto& path : dashboard::site::paths()) {
    s.get(path, [&site](const http::request& rq) {
      auto a = site.handle(rq.method, rq.path, query_of(rq), rq.header("Authorization"));
      http::response r;
      r.status = a.status;
      r.content_type = std::move(a.content_type);
      r.body = std::move(a.body);
      r.headers = std::move(a.headers);
      return r;
    });
  }
}

bool loopback(const std::string& listen) {
  return listen.starts_with("127.") || listen.starts_with("[::1]:") ||
         listen.starts_with("localhost:");
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

  // The dashboard (issue 20): read-only pages at /, /domain and /messages.
  for (const auto& p : dashboard::site::paths())
    if (p == h.report_path)
      throw failure(exit_code::config, "http: cannot serve http.report_path " + h.report_path +
                                           ": the dashboard's page is there");
  std::vector<dashboard::user> users;
  for (const auto& u : h.users) users.push_back({u.name, u.password_hash});
  for (const auto& l : h.listen)
    if (users.empty() && !loopback(l))
      log->warn("http: the dashboard on {} answers anyone who can reach it: set http.users", l);
  // The findings and the readiness badges, evaluated off the request path every
  // daemon.interval (they change when reports arrive, after a pass), at most once a minute.
  const auto every = std::max<std::chrono::milliseconds>(c.run.interval, std::chrono::minutes(1));
  side->findings = std::make_unique<dashboard::monitor_snapshot>(
      [url, rules = c.alerts.rules] { return dashboard::evaluate_monitor(url, rules); }, every);
  side->dashboard = std::make_unique<dashboard::site>(
      url, dashboard_explainer(), users, [snap = side->findings.get()] { return snap->latest(); });
  add_dashboard(s, *side->dashboard);
  if (extra_routes) extra_routes(s);

  s.start();
  const char* scheme = h.tls_cert ? "https" : "http";
  for (const auto& a : s.bound()) {
    log->info(
        "http: listening on {}://{}{} (reports), / (dashboard{}), /metrics, /healthz, /readyz",
        scheme, a.text(), h.report_path, h.users.empty() ? "" : ", basic auth");
  }
  return side;
}

}  // namespace tlsrpt::app
#endif
