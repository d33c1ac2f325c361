// SPDX-License-Identifier: Apache-2.0
// /metrics against the real server: promtool accepts the exposition, and each counter moves
// when its event happens.
#include <doctest/doctest.h>

#include "http/fixture.hpp"
#include "tlsrpt/collector/collector.hpp"

using namespace tlsrpt::test;
using namespace tlsrpt::test::http;

namespace {

// The value of one series in the exposition text, or -1 when it is absent.
double value_of(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

std::string scrape(const live_server& s) {
  auto r = s.curl(s.base() + "/metrics");
  REQUIRE(r.out.ends_with(" 200"));
  return "\n" + r.out.substr(0, r.out.size() - 4);
}

void promtool_accepts(const live_server& s) {
  const auto r = run("curl -sS " + s.base() + "/metrics | promtool check metrics 2>&1");
  CHECK_MESSAGE(r.status == 0, r.out);
}

}  // namespace

TEST_CASE("promtool accepts /metrics, and HTTP and message counters move with each request") {
  live_server s;
  s.metrics.declare_mailbox("reports \"main\"");
  promtool_accepts(s);
  auto m = scrape(s);
  CHECK(value_of(m, "tlsrpt_collector_build_info{version=\"test\"}") == 1);
  CHECK(value_of(m, "tlsrpt_collector_messages_total{source=\"https\",outcome=\"stored\"}") == -1);
  CHECK(value_of(m,
                 "tlsrpt_collector_passes_total{mailbox=\"reports \\\"main\\\"\",result=\"ok\"}") ==
        0);

  const auto f = s.dir / "r.json";
  REQUIRE(run("python3 " + quote(client_script()) + " report 1 > " + quote(f.string())).status ==
          0);
  const std::string post = "--data-binary @" + quote(f.string()) +
                           " -H 'Content-Type: application/tlsrpt+json' " + s.base() + "/tlsrpt";
  CHECK(s.curl(post).out.ends_with(" 200"));
  CHECK(s.curl(post).out.ends_with(" 200"));
  CHECK(s.curl(s.base() + "/nowhere").out.ends_with(" 404"));
  m = scrape(s);
  CHECK(value_of(m, "tlsrpt_collector_messages_total{source=\"https\",outcome=\"stored\"}") == 1);
  CHECK(value_of(m, "tlsrpt_collector_messages_total{source=\"https\",outcome=\"duplicate\"}") ==
        1);
  CHECK(value_of(m, "tlsrpt_collector_reports_stored_total{source=\"https\"}") == 1);
  CHECK(value_of(m, "tlsrpt_collector_http_requests_total{path=\"/tlsrpt\",code=\"200\"}") == 2);
  CHECK(value_of(m, "tlsrpt_collector_http_requests_total{path=\"other\",code=\"404\"}") == 1);
  CHECK(value_of(m, "tlsrpt_collector_http_requests_total{path=\"/metrics\",code=\"200\"}") >= 2);
  promtool_accepts(s);
}

TEST_CASE("pass events move the mailbox series, and failing passes make /readyz 503") {
  live_server s;
  tlsrpt::collector::pass_stats st;
  st.found = 12;
  st.already_done = 2;
  s.metrics.on_pass({"inbox", &st, std::nullopt, std::chrono::milliseconds(300)});
  auto m = scrape(s);
  CHECK(value_of(m, "tlsrpt_collector_passes_total{mailbox=\"inbox\",result=\"ok\"}") == 1);
  CHECK(value_of(m, "tlsrpt_collector_backlog_messages{mailbox=\"inbox\"}") == 10);
  CHECK(
      value_of(m, "tlsrpt_collector_pass_duration_seconds_bucket{mailbox=\"inbox\",le=\"0.25\"}") ==
      0);
  CHECK(value_of(
            m, "tlsrpt_collector_pass_duration_seconds_bucket{mailbox=\"inbox\",le=\"0.5\"}") == 1);
  CHECK(value_of(m, "tlsrpt_collector_last_successful_pass_timestamp_seconds{mailbox=\"inbox\"}") >
        1.7e9);
  for (int i = 0; i < 3; ++i) {
    s.metrics.on_pass(
        {"inbox", &st, std::string_view("imap: cannot connect"), std::chrono::milliseconds(5)});
  }
  s.metrics.on_store_error({"unavailable", "08006"});
  m = scrape(s);
  CHECK(value_of(m, "tlsrpt_collector_passes_total{mailbox=\"inbox\",result=\"failed\"}") == 3);
  CHECK(value_of(m, "tlsrpt_collector_consecutive_failed_passes{mailbox=\"inbox\"}") == 3);
  CHECK(value_of(m, "tlsrpt_collector_database_errors_total{kind=\"unavailable\"}") == 1);
  promtool_accepts(s);
  const auto r = s.curl(s.base() + "/readyz");
  CHECK(r.out == "not ready: mailbox inbox (3 failed passes)\n 503");
  s.metrics.on_pass({"inbox", &st, std::nullopt, std::chrono::milliseconds(5)});
  CHECK(s.curl(s.base() + "/readyz").out == "ready\n 200");
}
