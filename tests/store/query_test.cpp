// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <algorithm>

#include "store/fixtures.hpp"
#include "support/support.hpp"

namespace st = tlsrpt::store;
using tlsrpt::test::scratch_database;
using namespace tlsrpt::test::store;

namespace {

// A small fixture set whose numbers are checked through the views and the summary API.
//   example.com  Google day-1: 1000 ok, 2 certificate-expired at mx1 (sts testing)
//                Microsoft day-1: 500 ok; day-2: 300 ok, 10 sts-policy-fetch-error at mx2
//                Old day-40: 100 ok, 100 starttls-not-supported (outside a 30-day window)
//   example.net  Google day-1: 50 ok, no-policy-found
//   ready.example Microsoft day-1: 10000 ok, 1 certificate-host-mismatch (sts enforce)
void load_fixtures(st::pg_store& store) {
  std::vector<st::message_input> batch;
  batch.push_back(imap_message(
      1,
      {make_report(
          "Google Inc.", "g1", 1,
          {{.successful = 1000,
            .failed = 2,
            .details = {{.result = "certificate-expired", .failed = 2}}},
           {.type = "no-policy-found", .domain = "example.net", .mode = {}, .successful = 50}})}));
  batch.push_back(imap_message(2, {make_report("Microsoft Corporation", "m1", 1,
                                               {{.successful = 500},
                                                {.domain = "ready.example",
                                                 .mode = tlsrpt::report::sts_mode::enforce,
                                                 .successful = 10000,
                                                 .failed = 1,
                                                 .details = {{.result = "certificate-host-mismatch",
                                                              .failed = 1,
                                                              .mx = "mx.ready.example"}}}})}));
  batch.push_back(imap_message(3, {make_report("Microsoft Corporation", "m2", 2,
                                               {{.successful = 300,
                                                 .failed = 10,
                                                 .details = {{.result = "sts-policy-fetch-error",
                                                              .failed = 10,
                                                              .mx = "mx2.example.com",
                                                              .receiving_ip = std::nullopt}}}})}));
  batch.push_back(imap_message(
      4, {make_report("Old Reporter", "o1", 40,
                      {{.successful = 100,
                        .failed = 100,
                        .details = {{.result = "starttls-not-supported", .failed = 100}}}})}));
  const auto res = store.write(batch);
  for (const auto& r : res) REQUIRE(r.result == st::outcome::stored);
}

}  // namespace

TEST_CASE("daily_domain_stats sums sessions per day, domain and reporter") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  load_fixtures(store);
  const std::string yesterday = "((now() AT TIME ZONE 'UTC')::date - 1)";
  CHECK(query1(db.url(),
               "SELECT string_agg(reporter || ':' || policy_type || ':' || "
               "coalesce(sts_mode, '-') || ':' || reports || ':' || "
               "successful_sessions || ':' || failed_sessions || ':' || total_sessions, "
               "' ' ORDER BY reporter) FROM tlsrpt.daily_domain_stats WHERE "
               "policy_domain = 'example.com' AND day = " +
                   yesterday) ==
        "Google Inc.:sts:testing:1:1000:2:1002 Microsoft Corporation:sts:testing:1:500:0:500");
  CHECK(query1(db.url(),
               "SELECT round(failure_rate::numeric, 6) FROM tlsrpt.daily_domain_stats "
               "WHERE reporter = 'Google Inc.' AND policy_domain = 'example.com'") == "0.001996");
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.daily_domain_stats") == 6);
  CHECK(count(db.url(),
              "SELECT sum(total_sessions) FROM tlsrpt.daily_domain_stats WHERE "
              "policy_domain = 'example.com'") == 1002 + 500 + 310 + 200);
}

TEST_CASE("failure_breakdown lists failed sessions by type and host") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  load_fixtures(store);
  CHECK(query1(db.url(),
               "SELECT string_agg(result_type || '@' || coalesce(receiving_mx_hostname, "
               "'-') || '/' || coalesce(receiving_ip, '-') || ':' || failed_sessions, "
               "' ' ORDER BY failed_sessions DESC) FROM tlsrpt.failure_breakdown WHERE "
               "policy_domain = 'example.com'") ==
        "starttls-not-supported@mx1.example.com/192.0.2.25:100 "
        "sts-policy-fetch-error@mx2.example.com/-:10 "
        "certificate-expired@mx1.example.com/192.0.2.25:2");
}

TEST_CASE("sts_readiness gives a verdict per domain with its reasons") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  load_fixtures(store);
  CHECK(query1(db.url(),
               "SELECT string_agg(policy_domain || ':' || verdict, ' ' ORDER BY "
               "policy_domain) FROM tlsrpt.sts_readiness") ==
        "example.com:not-ready example.net:not-ready ready.example:not-ready");
  CHECK(query1(db.url(),
               "SELECT reporters || ':' || sessions || ':' || failed_sessions || ':' "
               "|| blocking_failed_sessions || ':' || policy_error_sessions || ':' || "
               "sts_mode || ':' || array_to_string(blocking_result_types, ',') FROM "
               "tlsrpt.sts_readiness WHERE policy_domain = 'example.com'") ==
        "2:1812:12:2:10:testing:certificate-expired");
  CHECK(query1(db.url(),
               "SELECT array_to_string(reasons, ' | ') FROM tlsrpt.sts_readiness "
               "WHERE policy_domain = 'example.com'") ==
        "2 of 14 days of reports in testing mode | "
        "0.110% of 1812 sessions would fail under enforce (threshold 0.100%) | "
        "sts-policy-fetch-error: 10 failed sessions (MX mx2.example.com) | "
        "certificate-expired: 2 failed sessions (MX mx1.example.com) | "
        "2 blocking failed sessions in the last 3 days (last on " +
            query1(db.url(), "SELECT (now() AT TIME ZONE 'UTC')::date - 1") + ")");
  CHECK(query1(db.url(),
               "SELECT reasons[1] FROM tlsrpt.sts_readiness WHERE policy_domain = "
               "'example.net'")
            .starts_with("no MTA-STS policy seen in the last 30 days"));
  // Readiness is a rule over time (0005): one day from one reporter, with a blocking failure
  // yesterday, is not enough yet.
  CHECK(query1(db.url(),
               "SELECT array_to_string(missing, ',') || ':' || sts_mode FROM "
               "tlsrpt.sts_readiness WHERE policy_domain = 'ready.example'") ==
        "days,reporters,recent-failures:enforce");
  CHECK(query1(db.url(),
               "SELECT verdict FROM tlsrpt.sts_readiness_at(now(), 30, 0.001, 1, 1, 0)"
               " WHERE policy_domain = 'ready.example'") == "ready");
  // Over 60 days the old reporter's starttls failures count, with a looser threshold still not.
  CHECK(query1(db.url(),
               "SELECT verdict || ':' || reporters || ':' || blocking_failed_sessions "
               "FROM tlsrpt.sts_readiness_over(60, 0.5) WHERE policy_domain = "
               "'example.com'") == "ready:3:102");
  CHECK(query1(db.url(),
               "SELECT verdict FROM tlsrpt.sts_readiness_over(60, 0.01) WHERE "
               "policy_domain = 'example.com'") == "not-ready");
}

TEST_CASE("the summary API returns per-domain numbers, top failures and verdicts") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  load_fixtures(store);
  const auto s = store.query_summary({.days = 30});
  CHECK(s.days == 30);
  REQUIRE(s.domains.size() == 3);
  CHECK(s.domains[0].policy_domain == "ready.example");
  CHECK(s.domains[1].policy_domain == "example.com");
  CHECK(s.domains[1].sessions == 1812);
  CHECK(s.domains[1].successful_sessions == 1800);
  CHECK(s.domains[1].failed_sessions == 12);
  CHECK(s.domains[1].reports == 3);
  CHECK(s.domains[1].reporters == std::vector<std::string>{"Google Inc.", "Microsoft Corporation"});
  CHECK(s.domains[1].failure_rate == doctest::Approx(12.0 / 1812.0));
  CHECK(s.domains[2].policy_domain == "example.net");

  REQUIRE(s.top_failures.size() == 3);
  CHECK(s.top_failures[0].result_type == "sts-policy-fetch-error");
  CHECK(s.top_failures[0].failed_sessions == 10);
  CHECK(s.top_failures[0].receiving_mx_hostname == "mx2.example.com");
  CHECK_FALSE(s.top_failures[0].receiving_ip.has_value());
  CHECK(s.top_failures[1].result_type == "certificate-expired");
  CHECK(s.top_failures[1].receiving_ip == "192.0.2.25");
  CHECK(s.top_failures[2].result_type == "certificate-host-mismatch");
  CHECK(s.top_failures[2].reporters == 1);

  REQUIRE(s.readiness.size() == 3);
  CHECK(s.readiness[0].policy_domain == "example.com");
  CHECK(s.readiness[0].result == st::verdict::not_ready);
  CHECK(s.readiness[0].reasons.size() == 5);
  CHECK(s.readiness[0].observed_days == 2);
  CHECK(s.readiness[0].min_days == 14);
  CHECK(s.readiness[0].blocking_failed_sessions == 2);
  CHECK(s.readiness[0].blocking_failure_rate == doctest::Approx(2.0 / 1812.0));
  CHECK(s.readiness[2].result == st::verdict::not_ready);
  CHECK(s.readiness[2].missing == std::vector<std::string>{"days", "reporters", "recent-failures"});
  const auto relaxed =
      store.query_summary({.days = 30, .min_days = 1, .min_reporters = 1, .quiet_days = 0});
  CHECK(relaxed.readiness[2].result == st::verdict::ready);
  CHECK(s.readiness[2].sts_mode == "enforce");
  CHECK(st::to_string(s.readiness[1].result) == "not-ready");

  // A domain filter (case and trailing dot do not matter) and a shorter window.
  const auto one = store.query_summary({.days = 1, .domain = "Example.COM.", .top_failures = 1});
  REQUIRE(one.domains.size() == 1);
  CHECK(one.domains[0].sessions == 1502);
  REQUIRE(one.top_failures.size() == 1);
  CHECK(one.top_failures[0].result_type == "certificate-expired");
  REQUIRE(one.readiness.size() == 1);
  CHECK(one.readiness[0].sessions == 1812);  // readiness looks back at least min_days

  const auto none = store.query_summary({.domain = "unknown.example"});
  CHECK(none.domains.empty());
  CHECK(none.readiness.empty());
}

TEST_CASE("prune deletes old reports with their rows and keeps the ledger") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  load_fixtures(store);
  std::vector<st::message_input> old;
  for (std::uint32_t i = 0; i < 25; ++i) {
    old.push_back(imap_message(100 + i, {make_report("Old", "x" + std::to_string(i), 50,
                                                     {{.failed = 1, .details = {{}}}})}));
  }
  store.write(old);
  CHECK(store.prune(35, 10) == 26);  // three batches of at most 10
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 3);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.policies") == 5);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.failure_details") == 3);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.messages") == 29);
  CHECK(store.prune(35) == 0);
  CHECK(store.prune(0) == 3);
  CHECK_THROWS_AS(store.prune(-1), st::error);
}

TEST_CASE("reprocess makes rejected messages pending again and returns their keys") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  std::vector<st::message_input> batch = {imap_message(1, {make_report("R", "1", 1, {{}})}),
                                          imap_message(2, {}), imap_message(3, {}, "other"),
                                          imap_message(4, {})};
  for (std::size_t i = 1; i < 4; ++i) {
    batch[i].kind = st::outcome::rejected;
    batch[i].error = "report: broken";
  }
  batch[3].kind = st::outcome::skipped;
  store.write(batch);
  const std::vector<std::uint32_t> uids = {1, 2, 3, 4};
  CHECK(store.done_uids("main", "INBOX", 1, uids) == std::vector<std::uint32_t>{1, 2, 4});

  const auto keys = store.reprocess({.source = "main"});
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].source == "main");
  CHECK(keys[0].folder == "INBOX");
  CHECK(keys[0].uidvalidity == 1u);
  CHECK(keys[0].uid == 2u);
  CHECK(store.done_uids("main", "INBOX", 1, uids) == std::vector<std::uint32_t>{1, 4});

  const auto rest = store.reprocess({.include_skipped = true});
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].source == "main");
  CHECK(rest[0].uid == 4u);
  CHECK(rest[1].source == "other");
  CHECK(store.done_uids("main", "INBOX", 1, uids) == std::vector<std::uint32_t>{1});
  CHECK(store.reprocess().empty());
}

TEST_CASE("check_connection reports the server, the schema version and write access") {
  scratch_database db;
  auto before = st::check_connection(db.url());
  CHECK(before.schema_version == 0);
  CHECK_FALSE(before.can_write);
  CHECK(before.database == db.name());
  CHECK(before.server_version.starts_with("15"));
  migrated(db.url());
  const auto after = st::check_connection(db.url());
  CHECK(after.schema_version == after.latest_migration);
  CHECK(after.schema_version >= 3);
  CHECK(after.can_write);
}
