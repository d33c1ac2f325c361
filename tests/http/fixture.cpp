// SPDX-License-Identifier: Apache-2.0
#include "http/fixture.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include "tlsrpt/http/health.hpp"
#include "tlsrpt/http/receiver.hpp"
#include "tlsrpt/store/pg_store.hpp"

namespace tlsrpt::test::http {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string client_script() { return (source_dir() / "tests/http/client.py").string(); }

tlsrpt::http::options live_server::small_options() {
  tlsrpt::http::options o;
  o.listen = {"127.0.0.1:0"};
  o.max_body_size = 1024 * 1024;
  o.max_connections = 128;
  o.request_timeout = std::chrono::seconds(3);
  return o;
}

live_server::live_server(tlsrpt::http::options opts, const std::string& database_url) {
  // One info line per stored report would drown the test's own output.
  spdlog::set_level(spdlog::level::warn);
  url = db.url();
  store::migrate(url);
  const std::string target = database_url.empty() ? url : database_url;
  collector::intake::options io;
  io.limits.mime.max_message_bytes = opts.max_body_size;
  intake = std::make_unique<collector::intake>(
      [target] { return std::make_unique<store::pg_store>(target); }, io, nullptr, &metrics);
  server = std::make_unique<tlsrpt::http::server>(opts);
  server->on_response([this](std::string_view r, int c) { metrics.on_http_response(r, c); });
  tlsrpt::http::add_report_receiver(*server, *intake);
  tlsrpt::http::add_metrics_endpoint(*server, metrics);
  tlsrpt::http::health_options ho;
  ho.cache = std::chrono::milliseconds(0);
  ho.check_database = [target]() -> std::optional<std::string> {
    try {
      (void)store::check_connection(target);
      return std::nullopt;
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  };
  tlsrpt::http::add_health_endpoints(*server, metrics, ho);
  server->start();
  dir = binary_dir() / "http-test-tmp" / db.name();
  std::filesystem::create_directories(dir);
}

live_server::~live_server() {
  server->stop();
  intake.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::uint16_t live_server::port() const { return server->bound().at(0).port; }

std::string live_server::base() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::string live_server::sql(const std::string& query) const {
  auto r = run("psql -qAtX " + quote(url) + " -c " + quote(query) + " 2>&1");
  REQUIRE_MESSAGE(r.status == 0, query << ": " << r.out);
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

run_result live_server::curl(const std::string& args) const {
  return run("curl -sS --max-time 60 -o - -w ' %{http_code}' " + args + " 2>&1");
}

run_result live_server::client(const std::string& args) const {
  return run("python3 " + quote(client_script()) + " " + args + " 2>&1");
}

}  // namespace tlsrpt::test::http
