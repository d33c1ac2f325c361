// SPDX-License-Identifier: Apache-2.0
// The daily rollups of migrations 0004 and 0009 and the dashboard's reads on them
// (store/dashboard.hpp).
#include <doctest/doctest.h>

#include <algorithm>

#include "store/fixtures.hpp"
#include "support/support.hpp"
#include "tlsrpt/store/dashboard.hpp"

namespace st = tlsrpt::store;
using tlsrpt::test::scratch_database;
using namespace tlsrpt::test::store;

namespace {

// The source tree's migrations, whatever an installed copy elsewhere holds.
void migrate_all(const std::string& url, std::optional<int> up_to = std::nullopt) {
  st::migrate_options o;
  o.dir = tlsrpt::test::source_dir() / "migrations";
  o.up_to = up_to;
  st::migrate(url, o);
}

// Rows of a coarse rollup (0009) that differ from the view over the raw tables grouped by
// `keys`, both ways.
long long coarse_drift(const std::string& url, const std::string& keys, const std::string& table) {
  return count(url, "WITH v AS (SELECT " + keys +
                        ", sum(reports)::bigint, sum(successful_sessions)::bigint,"
                        " sum(failed_sessions)::bigint FROM tlsrpt.daily_domain_stats GROUP BY " +
                        keys + "), r AS (SELECT " + keys +
                        ", reports, successful_sessions, failed_sessions FROM tlsrpt." + table +
                        ") SELECT count(*) FROM ((SELECT * FROM v EXCEPT SELECT * FROM r)"
                        " UNION ALL (SELECT * FROM r EXCEPT SELECT * FROM v)) x");
}

// Rows of the rollups that differ from the views over the raw tables (both ways); 0 when the
// rollups are exact.
long long rollup_drift(const std::string& url) {
  return count(url,
               "SELECT count(*) FROM ("
               " (SELECT day, policy_domain, policy_type, sts_mode, reporter, reports,"
               "   successful_sessions, failed_sessions FROM tlsrpt.daily_rollup"
               "  EXCEPT SELECT day, policy_domain, policy_type, sts_mode, reporter, reports,"
               "   successful_sessions, failed_sessions FROM tlsrpt.daily_domain_stats)"
               " UNION ALL"
               " (SELECT day, policy_domain, policy_type, sts_mode, reporter, reports,"
               "   successful_sessions, failed_sessions FROM tlsrpt.daily_domain_stats"
               "  EXCEPT SELECT day, policy_domain, policy_type, sts_mode, reporter, reports,"
               "   successful_sessions, failed_sessions FROM tlsrpt.daily_rollup)) x") +
         count(url,
               "WITH v AS (SELECT day, policy_domain, policy_type, reporter, result_type,"
               "  receiving_mx_hostname, receiving_ip, sum(failed_sessions)::bigint AS n"
               "  FROM tlsrpt.failure_breakdown GROUP BY 1, 2, 3, 4, 5, 6, 7),"
               " r AS (SELECT day, policy_domain, policy_type, reporter, result_type,"
               "  receiving_mx_hostname, receiving_ip, failed_sessions AS n"
               "  FROM tlsrpt.daily_failure_rollup)"
               " SELECT count(*) FROM ((SELECT * FROM v EXCEPT SELECT * FROM r)"
               "  UNION ALL (SELECT * FROM r EXCEPT SELECT * FROM v)) x") +
         coarse_drift(url, "day, policy_domain", "daily_domain_rollup") +
         coarse_drift(url, "day, policy_domain, reporter", "daily_reporter_rollup");
}

// example.com: Google every day for 10 days (certificate-expired at mx2 on days 3-5, blocking
// enough to fail readiness), Microsoft on day 1 with a report about example.net too; one
// report 40 days old; a report without a policy domain.
std::vector<st::message_input> fixtures() {
  std::vector<st::message_input> batch;
  std::uint32_t uid = 1;
  for (int ago = 0; ago < 10; ++ago) {
    const bool bad = ago >= 3 && ago <= 5;
    batch.push_back(imap_message(
        uid++,
        {make_report("Google Inc.", "g" + std::to_string(ago), ago,
                     {{.successful = 1000,
                       .failed = bad ? 20 : 0,
                       .details = bad ? std::vector<detail_spec>{{.result = "certificate-expired",
                                                                  .failed = 20,
                                                                  .mx = "mx2.example.com"}}
                                      : std::vector<detail_spec>{}}})}));
  }
  batch.push_back(imap_message(
      uid++,
      {make_report(
          "Microsoft Corporation", "m1", 1,
          {{.successful = 500},
           {.type = "no-policy-found", .domain = "example.net", .mode = {}, .successful = 70}})}));
  batch.push_back(imap_message(
      uid++, {make_report("Old Reporter", "o1", 40,
                          {{.successful = 5, .failed = 5, .details = {{.failed = 5}}}})}));
  batch.push_back(imap_message(
      uid++,
      {make_report("Postfix", "p1", 2,
                   {{.type = "no-policy-found", .domain = {}, .mode = {}, .successful = 9}})}));
  return batch;
}

}  // namespace

TEST_CASE(
    "the daily rollups equal the views after writes, after a prune, and when migrated "
    "over stored reports") {
  scratch_database db;
  migrate_all(db.url(), 3);
  st::pg_store store(db.url());
  auto batch = fixtures();
  // Half before the rollups exist (the migration fills them), half after (the triggers).
  const std::size_t half = batch.size() / 2;
  for (const auto& r : store.write(std::span(batch).first(half)))
    REQUIRE(r.result == st::outcome::stored);
  migrate_all(db.url());
  CHECK(rollup_drift(db.url()) == 0);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.daily_rollup") > 0);
  for (const auto& r : store.write(std::span(batch).subspan(half)))
    REQUIRE(r.result == st::outcome::stored);
  CHECK(rollup_drift(db.url()) == 0);
  CHECK(count(db.url(),
              "SELECT sum(successful_sessions + failed_sessions) FROM "
              "tlsrpt.daily_rollup WHERE policy_domain = 'example.com'") ==
        10 * 1000 + 60 + 500 + 10);
  // The same message again changes nothing.
  for (const auto& r : store.write(std::span(batch).first(2)))
    CHECK(r.result == st::outcome::duplicate);
  CHECK(rollup_drift(db.url()) == 0);
  CHECK(store.prune(30) == 1);
  CHECK(rollup_drift(db.url()) == 0);
  CHECK(count(db.url(),
              "SELECT count(*) FROM tlsrpt.daily_rollup WHERE reporter = "
              "'Old Reporter'") == 0);
}

TEST_CASE("the dashboard overview agrees with the summary") {
  scratch_database db;
  migrate_all(db.url());
  st::pg_store store(db.url());
  const auto batch = fixtures();
  for (const auto& r : store.write(batch)) REQUIRE(r.result == st::outcome::stored);
  store.record_attempt({.source = "main",
                        .folder = "INBOX",
                        .uidvalidity = 1,
                        .uid = 99,
                        .sha256 = std::string(64, 'a')},
                       "imap: timeout");

  st::pg_dashboard dash(db.url());
  const auto o = dash.read_overview({.days = 30});
  const auto s = store.query_summary({.days = 30});
  REQUIRE(o.domains.size() == s.domains.size());
  for (std::size_t i = 0; i < s.domains.size(); ++i) {
    CAPTURE(s.domains[i].policy_domain.value_or("(none)"));
    CHECK(o.domains[i].policy_domain == s.domains[i].policy_domain);
    CHECK(o.domains[i].sessions == s.domains[i].sessions);
    CHECK(o.domains[i].failed_sessions == s.domains[i].failed_sessions);
    CHECK(o.domains[i].reports == s.domains[i].reports);
    CHECK(o.domains[i].reporters.size() == s.domains[i].reporters.size());
    CHECK(o.domains[i].sparkline.size() == 30);
  }
  const auto& com = o.domains.front();
  REQUIRE(com.policy_domain == "example.com");
  CHECK(com.sparkline.back().successful == 1000);
  CHECK(com.sparkline[30 - 1 - 4].failed == 20);
  // Every domain summary judges readiness for is on the overview (the badges themselves are
  // the findings engine's: tests/dashboard).
  for (const auto& r : s.readiness)
    CHECK(std::any_of(o.domains.begin(), o.domains.end(),
                      [&](const auto& d) { return d.policy_domain == r.policy_domain; }));
  REQUIRE(o.mailboxes.size() == 1);
  CHECK(o.mailboxes[0].source == "main");
  CHECK(o.mailboxes[0].pending == 1);

  const auto d = dash.read_domain("Example.COM.", {.days = 30});
  REQUIRE(d.has_value());
  CHECK(d->totals.sessions == com.sessions);
  CHECK(d->days_list.size() == 31);
  REQUIRE(d->failures.size() == 1);
  CHECK(d->failures[0].failed_sessions == 60);
  CHECK(d->failures[0].reports == 3);
  CHECK(d->readiness.size() == 10);
  CHECK(d->recent.size() == 11);
  CHECK(d->recent.front().raw_json.find("report-id") != std::string::npos);
  CHECK_FALSE(dash.read_domain("unknown.example").has_value());

  const auto only = dash.read_overview({.days = 30, .domain = "example.net"});
  REQUIRE(only.domains.size() == 1);
  CHECK(only.domains[0].sessions == 70);
}
