// SPDX-License-Identifier: Apache-2.0
// Many clients at once, and the database going away under them: every report stored exactly
// once, nothing half-written, 503 while the database is gone.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "http/fixture.hpp"
#include "tlsrpt/http/health.hpp"
#include "tlsrpt/http/receiver.hpp"
#include "tlsrpt/store/pg_store.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::http;
namespace collector = tlsrpt::collector;
namespace store = tlsrpt::store;

namespace {

bool has(const std::string& out, const std::string& part) {
  return out.find(part) != std::string::npos;
}

// tests/http/client.py proxy in the background, to PostgreSQL; killed by pid.
class pg_proxy {
 public:
  explicit pg_proxy(int port = 0) {
    const std::string pg = require_env("TLSRPT_TEST_PG_PORT");
    log_ =
        (binary_dir() / "http-test-tmp").string() + "/proxy-" + std::to_string(::getpid()) + ".log";
    std::filesystem::create_directories(binary_dir() / "http-test-tmp");
    const auto r = run("python3 " + quote(client_script()) + " proxy " + std::to_string(port) +
                       " " + pg + " > " + quote(log_) + " 2>&1 & echo $!");
    pid_ = std::stoi(r.out);
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const std::string text = read_file(log_);
      if (text.starts_with("ready ")) port_ = std::stoi(text.substr(6));
    }
    REQUIRE_MESSAGE(port_ != 0, "the proxy did not start: " << read_file(log_));
  }
  ~pg_proxy() { stop(); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      run("while kill -0 " + std::to_string(pid_) + " 2>/dev/null; do sleep 0.05; done");
      pid_ = 0;
    }
  }
  int port() const { return port_; }

 private:
  int pid_ = 0;
  int port_ = 0;
  std::string log_;
};

}  // namespace

TEST_CASE("5,000 POSTs from 64 parallel clients: every report stored exactly once") {
  auto o = live_server::small_options();
  live_server s(o);
  const auto r = s.client("flood " + std::to_string(s.port()) + " /tlsrpt 5000 64 0 gz");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK_MESSAGE(has(r.out, "\"answers\": {\"200 stored\": 5000}"), r.out);
  CHECK_MESSAGE(has(r.out, "\"error_count\": 0"), r.out);
  CHECK(s.sql("SELECT count(*), count(DISTINCT report_id) FROM tlsrpt.reports") == "5000|5000");
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.messages WHERE source = 'https' AND outcome = "
              "'stored'") == "5000");
  // Sent again: all duplicates, nothing new.
  const auto again = s.client("flood " + std::to_string(s.port()) + " /tlsrpt 500 16");
  CHECK_MESSAGE(has(again.out, "\"answers\": {\"200 duplicate\": 500}"), again.out);
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.reports") == "5000");
}

TEST_CASE("the database stopped mid-stream: 503 with Retry-After, then recovery, nothing lost") {
  pg_proxy proxy;
  // `s` gives the scratch database and the clients; a second server on the same database
  // writes through the proxy (so do its /readyz checks), the test's own queries do not.
  auto o = live_server::small_options();
  live_server s(o);
  const std::string via_proxy = [&] {
    std::string u = s.url;
    const auto at = u.find('@');
    const auto slash = u.find('/', at);
    return u.substr(0, at + 1) + "127.0.0.1:" + std::to_string(proxy.port()) + u.substr(slash);
  }();
  tlsrpt::http::options po = o;
  collector::intake::options io;
  auto in = std::make_unique<collector::intake>(
      [via_proxy] { return std::make_unique<store::pg_store>(via_proxy); }, io);
  tlsrpt::http::server srv(po);
  tlsrpt::http::add_report_receiver(srv, *in);
  tlsrpt::http::health_options ho;
  ho.cache = std::chrono::milliseconds(0);
  ho.check_database = [via_proxy]() -> std::optional<std::string> {
    try {
      (void)store::check_connection(via_proxy);
      return std::nullopt;
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  };
  tlsrpt::http::add_health_endpoints(srv, s.metrics, ho);
  srv.start();
  const std::string port = std::to_string(srv.bound().at(0).port);
  const std::string base = "http://127.0.0.1:" + port;

  auto first = s.client("flood " + port + " /tlsrpt 200 8 0");
  CHECK_MESSAGE(has(first.out, "\"200 stored\": 200"), first.out);
  CHECK(s.curl(base + "/readyz").out == "ready\n 200");

  const int proxy_port = proxy.port();
  proxy.stop();  // connections cut, new ones refused
  auto down = s.client("flood " + port + " /tlsrpt 100 8 200");
  CHECK_MESSAGE(has(down.out, "\"answers\": {\"503 database\": 100}"), down.out);
  const auto head =
      s.curl("-i -X POST --data-binary '{}' -H 'Content-Type: application/tlsrpt+json' " + base +
             "/tlsrpt");
  CHECK(head.out.find("HTTP/1.1 503") == 0);
  CHECK(head.out.find("Retry-After: 60") != std::string::npos);
  const auto nr = s.curl(base + "/readyz");
  CHECK(nr.out.starts_with("not ready: database: "));
  CHECK(nr.out.ends_with(" 503"));
  // Nothing of the refused reports was written.
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.reports") == "200");

  pg_proxy back(proxy_port);  // the database returns on the same address
  auto retry = s.client("flood " + port + " /tlsrpt 100 8 200");
  CHECK_MESSAGE(has(retry.out, "\"200 stored\": 100"), retry.out);
  CHECK(s.curl(base + "/readyz").out == "ready\n 200");
  CHECK(s.sql("SELECT count(*), count(DISTINCT report_id) FROM tlsrpt.reports") == "300|300");
  CHECK(s.sql("SELECT count(*) FROM tlsrpt.messages") == "300");
  srv.stop();
}
