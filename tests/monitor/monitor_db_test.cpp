// SPDX-License-Identifier: Apache-2.0
// The findings over a real database: readiness as a rule over time (tlsrpt.sts_readiness_at),
// the facts pg_monitor reads, mailbox passes, and `check` as a monitoring plugin.
#include <doctest/doctest.h>

#include "app/cli.hpp"
#include "store/fixtures.hpp"
#include "support/support.hpp"
#include "tlsrpt/monitor/finding.hpp"

namespace st = tlsrpt::store;
namespace mon = tlsrpt::monitor;
using tlsrpt::test::scratch_database;
using tlsrpt::test::app::cli;
using tlsrpt::test::app::quote;
using namespace tlsrpt::test::store;

namespace {

// Clean STS testing reports from two reporters for days_ago in [first, last].
void clean_days(st::pg_store& db, const std::string& domain, int first, int last,
                std::uint32_t& uid) {
  std::vector<st::message_input> batch;
  for (int ago = first; ago <= last; ++ago)
    for (const char* org : {"Google Inc.", "Microsoft Corporation"})
      batch.push_back(imap_message(uid++, {make_report(org, domain + "-" + std::to_string(ago), ago,
                                                       {{.domain = domain, .successful = 1000}})}));
  for (const auto& r : db.write(batch)) REQUIRE(r.result == st::outcome::stored);
}

}  // namespace

TEST_CASE("readiness needs min_days of testing reports: 13 days are not ready, 14 are") {
  scratch_database sdb;
  migrated(sdb.url());
  st::pg_store db(sdb.url());
  std::uint32_t uid = 1;
  clean_days(db, "thirteen.example", 1, 13, uid);
  clean_days(db, "fourteen.example", 1, 14, uid);
  CHECK(query1(sdb.url(),
               "SELECT string_agg(policy_domain || ':' || verdict || ':' || observed_days, ' '"
               " ORDER BY policy_domain) FROM tlsrpt.sts_readiness") ==
        "fourteen.example:ready:14 thirteen.example:not-ready:13");
  CHECK(query1(sdb.url(),
               "SELECT array_to_string(reasons, ' | ') || '/' || "
               "array_to_string(missing, ',') FROM tlsrpt.sts_readiness"
               " WHERE policy_domain = 'thirteen.example'") ==
        "13 of 14 days of reports in testing mode/days");

  // The summary says the same by the same rule.
  const auto s = db.query_summary({.days = 30});
  REQUIRE(s.readiness.size() == 2);
  CHECK(s.readiness[0].result == st::verdict::ready);
  CHECK(s.readiness[1].observed_days == 13);
  CHECK(s.readiness[1].missing == std::vector<std::string>{"days"});

  // As of a day before, fourteen.example had 13 days: it became ready since (and said so).
  st::pg_monitor mon_db(sdb.url());
  const tlsrpt::config::alert_rules rules;
  const auto found = mon::evaluate(mon_db, rules);
  REQUIRE(found.size() == 1);
  CHECK(found[0].key == "readiness-changed/fourteen.example/ready");
}

TEST_CASE("readiness wants two reporters, a rate at or under the threshold, 3 quiet days") {
  scratch_database sdb;
  migrated(sdb.url());
  st::pg_store db(sdb.url());
  std::vector<st::message_input> batch;
  std::uint32_t uid = 1;
  for (int ago = 1; ago <= 14; ++ago) {
    // one.example: one reporter only.
    batch.push_back(
        imap_message(uid++, {make_report("Google Inc.", "one-" + std::to_string(ago), ago,
                                         {{.domain = "one.example", .successful = 1000}})}));
    for (const char* org : {"Google Inc.", "Microsoft Corporation"}) {
      // at.example: 1 blocking failure per 1000 sessions on day 10 = exactly 0.1 % overall of
      // its sessions that day, far under over 14 days; recent.example: one failure 2 days ago.
      const bool at_fail = ago == 10 && std::string(org) == "Google Inc.";
      batch.push_back(imap_message(
          uid++, {make_report(org, "at-" + std::to_string(ago), ago,
                              {{.domain = "at.example",
                                .successful = at_fail ? 27 : 1000,
                                .failed = at_fail ? 1 : 0,
                                .details = at_fail ? std::vector<detail_spec>{{.failed = 1}}
                                                   : std::vector<detail_spec>{}}})}));
      const bool recent_fail = ago == 2 && std::string(org) == "Google Inc.";
      batch.push_back(imap_message(
          uid++, {make_report(org, "recent-" + std::to_string(ago), ago,
                              {{.domain = "recent.example",
                                .successful = 1000,
                                .failed = recent_fail ? 1 : 0,
                                .details = recent_fail ? std::vector<detail_spec>{{.failed = 1}}
                                                       : std::vector<detail_spec>{}}})}));
    }
  }
  for (const auto& r : db.write(batch)) REQUIRE(r.result == st::outcome::stored);
  // at.example: 1 blocking of 27,028 sessions, under 0.1 %; at threshold 1/27028 exactly it is
  // still ready ("at or under"), just under that it is not.
  CHECK(query1(sdb.url(),
               "SELECT string_agg(policy_domain || ':' || verdict || ':' ||"
               " array_to_string(missing, ','), ' ' ORDER BY policy_domain)"
               " FROM tlsrpt.sts_readiness_at(now(), 30, 0.001, 14, 2, 3)") ==
        "at.example:ready: one.example:not-ready:reporters "
        "recent.example:not-ready:recent-failures");
  CHECK(query1(sdb.url(),
               "SELECT verdict FROM tlsrpt.sts_readiness_at(now(), 30, 1.0/27028, 14,"
               " 2, 3) WHERE policy_domain = 'at.example'") == "ready");
  CHECK(query1(sdb.url(),
               "SELECT verdict || ':' || array_to_string(missing, ',') FROM"
               " tlsrpt.sts_readiness_at(now(), 30, 0.99/27028, 14, 2, 3)"
               " WHERE policy_domain = 'at.example'") == "not-ready:failure-rate");
  CHECK(query1(sdb.url(),
               "SELECT reasons[1] FROM tlsrpt.sts_readiness"
               " WHERE policy_domain = 'recent.example'")
            .starts_with("1 blocking failed sessions in the last 3 days (last on "));
  CHECK(query1(sdb.url(),
               "SELECT reasons[1] FROM tlsrpt.sts_readiness"
               " WHERE policy_domain = 'one.example'") == "1 of 2 reporters");
}

TEST_CASE("pg_monitor reads days, failures, rejected messages and mailbox passes") {
  scratch_database sdb;
  migrated(sdb.url());
  st::pg_store db(sdb.url());
  std::vector<st::message_input> batch;
  batch.push_back(imap_message(
      1, {make_report("Google Inc.", "g1", 1,
                      {{.successful = 998,
                        .failed = 5,
                        .details = {{.result = "certificate-expired", .failed = 2},
                                    {.result = "sts-policy-fetch-error", .failed = 1}}}})}));
  st::message_input bad = imap_message(2, {});
  bad.kind = st::outcome::rejected;
  bad.error = "report: policies: expected an array";
  batch.push_back(bad);
  db.write(batch);

  st::pg_monitor m(sdb.url());
  m.record_passes({{.mailbox = "main", .ok = false, .error = "imap: cannot connect"}});
  m.record_passes({{.mailbox = "main", .ok = false, .error = "imap: cannot connect again"}});
  m.record_passes({{.mailbox = "other", .ok = true}});
  const auto f = m.read_facts({.history_days = 5, .window_days = 2});
  REQUIRE(f.days.size() == 1);
  CHECK(f.days[0].day == f.today - 1);
  CHECK(f.days[0].sessions == 1003);
  CHECK(f.days[0].failed == 5);
  CHECK(f.days[0].blocking == 4);  // 2 certificate-expired + 2 without details
  REQUIRE(f.failures.size() == 2);
  CHECK(f.failures[0].mx_host == "mx1.example.com");
  CHECK(f.rejected == 1);
  CHECK(f.last_rejection == "report: policies: expected an array");
  REQUIRE(f.mailboxes.size() == 2);
  CHECK(f.mailboxes[0].mailbox == "main");
  CHECK(f.mailboxes[0].last_error == "imap: cannot connect again");
  REQUIRE(f.mailboxes[0].failing_since.has_value());
  CHECK(!f.mailboxes[1].failing_since.has_value());
  m.record_passes({{.mailbox = "main", .ok = true}});
  CHECK(!m.read_facts().mailboxes[0].failing_since.has_value());
}

TEST_CASE("check exits 0, 1, 2 or 3 and prints the findings as text or json") {
  scratch_database sdb;
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(sdb.url());
  auto r = cli("check", env);  // migrates on start; an empty database has nothing to say
  CHECK(r.status == 0);
  CHECK(r.out == "TLSRPT OK - no open findings | critical=0 warning=0\n");

  st::pg_store db(sdb.url());
  db.write(std::vector<st::message_input>{imap_message(
      1, {make_report("Google Inc.", "g1", 1,
                      {{.successful = 1000,
                        .failed = 1,
                        .details = {{.result = "certificate-host-mismatch", .failed = 1}}},
                       {.domain = "other.example",
                        .successful = 200,
                        .failed = 1,
                        .details = {{.result = "starttls-not-supported", .failed = 1}}}})})});
  r = cli("check", env);
  CHECK(r.status == 2);
  CHECK(
      r.out.starts_with("TLSRPT CRITICAL - 1 critical, 1 warning: example.com: "
                        "certificate-host-mismatch at MX mx1.example.com (192.0.2.25)"));
  r = cli("check --domain other.example --format json", env);
  CHECK(r.status == 1);
  CHECK(r.out.starts_with("{\"status\":\"WARNING\",\"exit_code\":1,"));
  CHECK(r.out.find("\"key\":\"failure-rate/other.example\"") != std::string::npos);
  CHECK(r.out.find("example.com/") == std::string::npos);

  r = cli("check --format yaml", env);
  CHECK(r.status == 3);
  r = cli("check", "TLSRPT_DATABASE_URL=postgresql://nobody@127.0.0.1:1/none");
  CHECK(r.status == 3);
  CHECK(r.out == "TLSRPT UNKNOWN - cannot evaluate the findings\n");
}
