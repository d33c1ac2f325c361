// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <thread>

#include "store/fixtures.hpp"
#include "support/support.hpp"

namespace st = tlsrpt::store;
using tlsrpt::test::scratch_database;
using namespace tlsrpt::test::store;

namespace {

// A write started while another transaction (`hold`) holds an uncommitted row the write will
// need: `hold` commits only once the writer waits on that row's lock, so the race is the one
// a test means, whatever the machine's speed.
struct raced_write {
  bool waited = false;  // the writer did wait on the held row
  std::vector<st::message_result> results;
  std::string failure;  // what write() threw, if it did
};

raced_write write_while_held(const std::string& url, pqxx::work& hold,
                             const std::vector<st::message_input>& batch) {
  raced_write out;
  std::thread writer([&] {
    try {
      st::pg_store store(url);
      out.results = store.write(batch);
    } catch (const std::exception& e) {
      out.failure = e.what();
    }
  });
  for (int i = 0; i < 3000 && !out.waited; ++i) {
    out.waited = count(url,
                       "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock'") > 0;
    if (!out.waited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  hold.commit();
  writer.join();
  return out;
}

}  // namespace

TEST_CASE("a report is stored with its policies, failure details and ledger row") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  auto r = make_report(
      "Google Inc.", "2024-05-01T00:00:00Z_example.com", 1,
      {{.successful = 90,
        .failed = 3,
        .details = {{.result = "certificate-expired", .failed = 2},
                    {.result = "validation-failure", .failed = 1}}},
       {.type = "no-policy-found", .domain = "example.net", .mode = {}, .successful = 5}});
  r.warnings = {"policies[0]: a tolerated oddity"};
  const auto msg = imap_message(7, {r});
  const auto res = store.write(std::span(&msg, 1));
  REQUIRE(res.size() == 1);
  CHECK(res[0].result == st::outcome::stored);
  REQUIRE(res[0].report_ids.size() == 1);
  const std::string id = std::to_string(res[0].report_ids[0]);

  CHECK(query1(db.url(),
               "SELECT reporter || '|' || organization_name || '|' || contact_info || "
               "'|' || submitter || '|' || policy_count || '|' || successful_sessions "
               "|| '|' || failed_sessions FROM tlsrpt.reports WHERE id = " +
                   id) == "Google Inc.|Google Inc.|tlsrpt@Google Inc.|reporter.example|2|95|3");
  CHECK(query1(db.url(), "SELECT raw_json->>'organization-name' FROM tlsrpt.reports") ==
        "Google Inc.");
  CHECK(query1(db.url(), "SELECT raw_sha256 FROM tlsrpt.reports") ==
        st::sha256_hex(msg.reports[0].raw_json));
  CHECK(query1(db.url(), "SELECT content_sha256 FROM tlsrpt.reports") ==
        st::content_digest(msg.reports[0].parsed));
  CHECK(query1(db.url(), "SELECT warnings[1] FROM tlsrpt.reports") ==
        "policies[0]: a tolerated oddity");
  CHECK(query1(db.url(), "SELECT received_at = '2024-05-02T01:02:03Z' FROM tlsrpt.reports") == "t");
  CHECK(query1(db.url(),
               "SELECT (date_begin AT TIME ZONE 'UTC') = "
               "((now() AT TIME ZONE 'UTC')::date - 1)::timestamp FROM tlsrpt.reports") == "t");
  CHECK(query1(db.url(),
               "SELECT string_agg(position || ':' || policy_type || ':' || "
               "coalesce(policy_domain, '-') || ':' || coalesce(sts_mode, '-') || ':' "
               "|| successful_sessions || ':' || failed_sessions, ' ' ORDER BY "
               "position) FROM tlsrpt.policies") ==
        "0:sts:example.com:testing:90:3 1:no-policy-found:example.net:-:5:0");
  CHECK(query1(db.url(),
               "SELECT policy_strings[2] || ' ' || mx_hosts[1] || ' ' || sts_max_age "
               "FROM tlsrpt.policies WHERE position = 0") == "mode: testing mx1.example.com 86400");
  CHECK(query1(db.url(),
               "SELECT string_agg(f.result_type || ':' || f.failed_sessions || ':' || "
               "host(f.receiving_ip) || ':' || host(f.sending_mta_ip) || ':' || "
               "f.receiving_mx_hostname || ':' || (f.policy_ref = p.id)::text, ' ' "
               "ORDER BY f.position) FROM tlsrpt.failure_details f JOIN "
               "tlsrpt.policies p ON p.report_ref = f.report_ref AND p.position = 0") ==
        "certificate-expired:2:192.0.2.25:198.51.100.7:mx1.example.com:true "
        "validation-failure:1:192.0.2.25:198.51.100.7:mx1.example.com:true");
  CHECK(query1(db.url(),
               "SELECT source || '|' || folder || '|' || uidvalidity || '|' || uid || "
               "'|' || outcome || '|' || attempts || '|' || report_refs[1] || '|' || "
               "(error IS NULL) FROM tlsrpt.messages") ==
        "main|INBOX|1|7|stored|1|" + id + "|true");
}

TEST_CASE("the same report stored again is a duplicate and counts once") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  const auto r = make_report("Microsoft Corporation", "133", 2, {{.successful = 10}});
  const auto first = imap_message(1, {r});
  auto second = imap_message(2, {r});
  // Delivered to a second rua address: different message, same report, different raw bytes.
  second.reports[0].raw_json = " " + second.reports[0].raw_json;
  CHECK(store.write(std::span(&first, 1))[0].result == st::outcome::stored);
  const auto res = store.write(std::span(&second, 1));
  CHECK(res[0].result == st::outcome::duplicate);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 1);
  CHECK(count(db.url(), "SELECT sum(successful_sessions) FROM tlsrpt.policies") == 10);
  CHECK(res[0].report_ids ==
        std::vector<std::int64_t>{count(db.url(), "SELECT id FROM tlsrpt.reports")});
  CHECK(query1(db.url(),
               "SELECT string_agg(uid || ':' || outcome, ' ' ORDER BY uid) FROM "
               "tlsrpt.messages") == "1:stored 2:duplicate");
  // The same message written again (a crash before acknowledgement) keeps its "stored".
  CHECK(store.write(std::span(&first, 1))[0].result == st::outcome::duplicate);
  CHECK(query1(db.url(), "SELECT outcome || ':' || attempts FROM tlsrpt.messages WHERE uid = 1") ==
        "stored:2");
  // And twice inside one batch.
  const std::vector<st::message_input> batch = {imap_message(3, {r}), imap_message(4, {r})};
  const auto both = store.write(batch);
  CHECK(both[0].result == st::outcome::duplicate);
  CHECK(both[1].result == st::outcome::duplicate);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 1);
}

TEST_CASE("a report id seen again with different content is a conflict, kept but not counted") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  const auto r = make_report("Example Org", "same-id", 1,
                             {{.successful = 10, .failed = 1, .details = {{.failed = 1}}}});
  auto changed = r;
  changed.policies[0].total_successful_session_count = 20;
  const std::vector<st::message_input> batch = {imap_message(1, {r})};
  CHECK(store.write(batch)[0].result == st::outcome::stored);
  const auto second = imap_message(2, {changed});
  const auto res = store.write(std::span(&second, 1));
  CHECK(res[0].result == st::outcome::conflict);
  CHECK(res[0].detail.find("differs from the stored report") != std::string::npos);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 1);
  CHECK(count(db.url(), "SELECT sum(successful_sessions) FROM tlsrpt.policies") == 10);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.failure_details") == 1);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.conflicts") == 1);
  CHECK(query1(db.url(),
               "SELECT (c.report_ref = r.id)::text || ':' || c.content_sha256 || ':' || "
               "c.message_sha256 FROM tlsrpt.conflicts c, tlsrpt.reports r") ==
        "true:" + st::content_digest(changed) + ":" + second.facts.key.sha256);
  CHECK(query1(db.url(), "SELECT raw_json FROM tlsrpt.conflicts") ==
        query1(db.url(), "SELECT '" + second.reports[0].raw_json + "'::jsonb::text"));
  CHECK(query1(db.url(), "SELECT outcome FROM tlsrpt.messages WHERE uid = 2") == "conflict");
  CHECK(query1(db.url(), "SELECT error FROM tlsrpt.messages WHERE uid = 2").find("differs") !=
        std::string::npos);
  // The same conflicting version again: still a conflict, kept once.
  const auto third = imap_message(3, {changed});
  CHECK(store.write(std::span(&third, 1))[0].result == st::outcome::conflict);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.conflicts") == 1);
}

TEST_CASE("two writers storing the same report at the same moment end with one row") {
  scratch_database db;
  migrated(db.url());
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    std::vector<st::message_input> a, b;
    for (int i = 0; i < 50; ++i) {
      auto r = make_report("Concurrent", "r" + std::to_string(round) + "-" + std::to_string(i), 1,
                           {{.successful = 1}});
      a.push_back(imap_message(static_cast<std::uint32_t>(round * 100 + i), {r}, "a"));
      b.push_back(imap_message(static_cast<std::uint32_t>(round * 100 + i), {r}, "b"));
    }
    std::vector<st::message_result> ra, rb;
    std::thread ta([&] {
      st::pg_store s(db.url());
      ra = s.write(a);
    });
    std::thread tb([&] {
      st::pg_store s(db.url());
      rb = s.write(b);
    });
    ta.join();
    tb.join();
    REQUIRE(ra.size() == 50);
    REQUIRE(rb.size() == 50);
    for (std::size_t i = 0; i < 50; ++i) {
      const bool one_stored =
          (ra[i].result == st::outcome::stored) != (rb[i].result == st::outcome::stored);
      CHECK(one_stored);
      CHECK((ra[i].result == st::outcome::duplicate || rb[i].result == st::outcome::duplicate));
      CHECK(ra[i].report_ids == rb[i].report_ids);
    }
  }
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 250);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.policies") == 250);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.messages") == 500);
}

TEST_CASE("a report another writer commits while the COPY waits on it is a duplicate") {
  // The writer looks up which identities are stored, then COPYs the others. Here another
  // transaction holds an uncommitted row with the same identity: the lookup cannot see it,
  // the COPY waits on it, and once it commits the COPY meets the unique key. The writer must
  // then take the INSERT ... ON CONFLICT path: the report is a duplicate of the committed row
  // and its batch neighbour is stored, nothing rejected.
  scratch_database db;
  migrated(db.url());
  const auto raced = make_report("Raced", "race-1", 1, {{.successful = 7}});
  const auto other = make_report("Raced", "race-2", 1, {{.successful = 9}});

  pqxx::connection holder(db.url());
  pqxx::work hold(holder);
  const auto held_id =
      hold.exec_params1(
              "INSERT INTO tlsrpt.reports (reporter, organization_name, report_id, date_begin,"
              " date_end, policy_count, successful_sessions, failed_sessions, raw_json,"
              " raw_sha256, content_sha256)"
              " VALUES ('Raced', 'Raced', 'race-1', $1, $2, 1, 7, 0, '{}', 'x', $3) RETURNING id",
              tlsrpt::report::format_timestamp(raced.date_begin),
              tlsrpt::report::format_timestamp(raced.date_end), st::content_digest(raced))[0]
          .as<std::int64_t>();

  const std::vector<st::message_input> batch{imap_message(1, {raced}), imap_message(2, {other})};
  const raced_write w = write_while_held(db.url(), hold, batch);
  REQUIRE(w.waited);
  REQUIRE(w.failure.empty());
  const auto& results = w.results;
  REQUIRE(results.size() == 2);
  CHECK(results[0].result == st::outcome::duplicate);
  CHECK(results[0].report_ids == std::vector<std::int64_t>{held_id});
  CHECK(results[1].result == st::outcome::stored);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 2);
  // Only the writer's own new report brought policies; the raced one was not added twice.
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.policies") == 1);
  CHECK(count(db.url(), "SELECT sum(successful_sessions) FROM tlsrpt.policies") == 9);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.messages WHERE outcome = 'duplicate'") == 1);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.messages WHERE outcome = 'stored'") == 1);
}

TEST_CASE(
    "a ledger row another writer commits while the COPY waits on it is updated, not doubled") {
  // As for reports: the ledger rows new to the lookup go in by COPY. Here another transaction
  // holds an uncommitted row for the same IMAP message (a failed attempt being counted);
  // once it commits, the COPY meets the unique key and the writer must fall back to the
  // upsert: one ledger row, with the attempt counted and the outcome of this write.
  scratch_database db;
  migrated(db.url());
  pqxx::connection holder(db.url());
  pqxx::work hold(holder);
  hold.exec(
      "INSERT INTO tlsrpt.messages (source, folder, uidvalidity, uid, sha256, error, attempts)"
      " VALUES ('main', 'INBOX', 1, 1, 'x', 'connection lost', 1)");

  const std::vector<st::message_input> batch{
      imap_message(1, {make_report("Ledger", "l-1", 1, {{.successful = 3}})}),
      imap_message(2, {make_report("Ledger", "l-2", 1, {{.successful = 4}})})};
  const raced_write w = write_while_held(db.url(), hold, batch);
  REQUIRE(w.waited);
  REQUIRE(w.failure.empty());
  const auto& results = w.results;
  REQUIRE(results.size() == 2);
  CHECK(results[0].result == st::outcome::stored);
  CHECK(results[1].result == st::outcome::stored);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.messages") == 2);
  CHECK(count(db.url(), "SELECT attempts FROM tlsrpt.messages WHERE uid = 1") == 2);
  CHECK(query1(db.url(), "SELECT outcome FROM tlsrpt.messages WHERE uid = 1") == "stored");
  CHECK(query1(db.url(), "SELECT coalesce(error, '') FROM tlsrpt.messages WHERE uid = 1").empty());
  CHECK(count(db.url(), "SELECT attempts FROM tlsrpt.messages WHERE uid = 2") == 1);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 2);
}

TEST_CASE("a report with many policies and failure details keeps them all in order") {
  scratch_database db;
  migrated(db.url());
  std::vector<policy_spec> policies;
  for (int p = 0; p < 40; ++p) {
    policy_spec ps;
    ps.domain = "d" + std::to_string(p) + ".example";
    ps.failed = 25;
    for (int d = 0; d < 25; ++d) {
      ps.details.push_back({.result = d % 2 == 0 ? "certificate-expired" : "x-vendor-token",
                            .failed = 1,
                            .mx = "mx" + std::to_string(d) + ".example"});
    }
    policies.push_back(ps);
  }
  const auto msg = imap_message(1, {make_report("Big", "big", 1, policies)});
  st::pg_store store(db.url());
  CHECK(store.write(std::span(&msg, 1))[0].result == st::outcome::stored);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.policies") == 40);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.failure_details") == 1000);
  CHECK(count(db.url(), "SELECT sum(failed_sessions) FROM tlsrpt.failure_details") == 1000);
  CHECK(count(db.url(),
              "SELECT count(*) FROM tlsrpt.failure_details WHERE result_type = "
              "'x-vendor-token'") == 480);
  // Every detail points at the policy it was listed under.
  CHECK(count(db.url(),
              "SELECT count(*) FROM tlsrpt.failure_details f JOIN tlsrpt.policies p "
              "ON p.id = f.policy_ref WHERE p.policy_domain <> 'd' || p.position || "
              "'.example' OR f.receiving_mx_hostname <> 'mx' || f.position || "
              "'.example'") == 0);
}

TEST_CASE("fields senders omit are stored as NULL") {
  scratch_database db;
  migrated(db.url());
  auto r = make_report("", "postfix-1", 1,
                       {{.type = "no-policy-found",
                         .domain = std::nullopt,
                         .mode = std::nullopt,
                         .successful = 3,
                         .failed = 1,
                         .details = {{.result = "starttls-not-supported",
                                      .failed = 1,
                                      .mx = std::nullopt,
                                      .receiving_ip = std::nullopt,
                                      .sending_ip = std::nullopt}}}});
  r.contact_info.reset();
  auto msg = imap_message(1, {r});
  msg.facts.message_id.reset();
  msg.facts.date.reset();
  msg.facts.submitter = "mail.example.org";
  st::pg_store store(db.url());
  CHECK(store.write(std::span(&msg, 1))[0].result == st::outcome::stored);
  CHECK(query1(db.url(),
               "SELECT reporter || '|' || organization_name || '|' || "
               "(contact_info IS NULL) || (message_id IS NULL) || (received_at IS NULL) "
               "FROM tlsrpt.reports") == "mail.example.org||truetruetrue");
  CHECK(query1(db.url(),
               "SELECT (policy_domain IS NULL)::text || (sts_mode IS NULL) || "
               "(sts_max_age IS NULL) || cardinality(policy_strings) || "
               "cardinality(mx_hosts) FROM tlsrpt.policies") == "truetruetrue00");
  CHECK(query1(db.url(),
               "SELECT (sending_mta_ip IS NULL)::text || (sending_mta_ip_raw IS NULL) "
               "|| (receiving_ip IS NULL) || (receiving_ip_raw IS NULL) || "
               "(receiving_mx_hostname IS NULL) || (receiving_mx_helo IS NULL) || "
               "(additional_information IS NULL) || (failure_reason_code IS NULL) "
               "FROM tlsrpt.failure_details") == "truetruetruetruetruetruetruetrue");
  // Another site's Postfix with the same report-id is a different report (its submitter).
  auto other = imap_message(2, {r});
  other.facts.submitter = "mail.example.net";
  CHECK(store.write(std::span(&other, 1))[0].result == st::outcome::stored);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 2);
}

TEST_CASE("odd characters survive the COPY and array paths exactly, NUL and bad UTF-8 cleaned") {
  scratch_database db;
  migrated(db.url());
  // Every character COPY's text format or an array literal treats specially, a literal "\N"
  // (COPY's NULL marker) and "NULL" (an array literal's), and non-ASCII text.
  const std::string odd =
      "tab\there back\\slash \\\\two new\nline cr\rend \"quoted\" 'single' {brace,comma} \\N "
      "\xc3\xa9t\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80";
  auto r = make_report(odd, "odd\tid\\" + odd, 1,
                       {{.domain = "\\N", .failed = 1, .details = {{.failed = 1}}}});
  r.policies[0].type_raw = odd;
  r.policies[0].policy_strings = {odd, "NULL", "", "\\N"};
  r.policies[0].mx_hosts = {"a\tb", "c\\d"};
  auto& f = r.policies[0].failure_details[0];
  f.result_raw = odd;
  f.receiving_mx_hostname = odd;
  f.receiving_mx_helo = "\\N";
  f.additional_information = std::string("nul\0byte", 8);
  f.failure_reason_code = "latin1 caf\xe9";
  f.receiving_ip = "192.0.2.1\t(tab)";
  auto msg = imap_message(1, {r});
  // The fixture's stand-in JSON does not escape; the real thing, as the parser's writer makes it.
  msg.reports[0].raw_json = tlsrpt::report::to_json(r);
  st::pg_store store(db.url());
  const auto res = store.write(std::span(&msg, 1));
  INFO(res[0].detail);
  REQUIRE(res[0].result == st::outcome::stored);

  CHECK(query1(db.url(), "SELECT organization_name FROM tlsrpt.reports") == odd);
  CHECK(query1(db.url(), "SELECT raw_json->>'organization-name' FROM tlsrpt.reports") == odd);
  // jsonb cannot hold U+0000: the \u0000 of the raw JSON is kept as U+FFFD, not refused.
  CHECK(query1(db.url(),
               "SELECT position('nul\xef\xbf\xbd' || 'byte' IN raw_json::text) > 0 "
               "FROM tlsrpt.reports") == "t");
  CHECK(query1(db.url(), "SELECT raw_sha256 FROM tlsrpt.reports") ==
        st::sha256_hex(msg.reports[0].raw_json));
  CHECK(query1(db.url(), "SELECT report_id FROM tlsrpt.reports") == "odd\tid\\" + odd);
  CHECK(query1(db.url(), "SELECT policy_type FROM tlsrpt.policies") == odd);
  CHECK(query1(db.url(), "SELECT coalesce(policy_domain, '<null>') FROM tlsrpt.policies") == "\\N");
  CHECK(query1(db.url(), "SELECT policy_strings[1] FROM tlsrpt.policies") == odd);
  CHECK(query1(db.url(),
               "SELECT coalesce(policy_strings[2], '<null>') || '|' || policy_strings[3] || '|' "
               "|| policy_strings[4] || '|' || cardinality(policy_strings) FROM "
               "tlsrpt.policies") == "NULL||\\N|4");
  CHECK(query1(db.url(), "SELECT mx_hosts[1] || '|' || mx_hosts[2] FROM tlsrpt.policies") ==
        "a\tb|c\\d");
  CHECK(query1(db.url(), "SELECT result_type FROM tlsrpt.failure_details") == odd);
  CHECK(query1(db.url(), "SELECT receiving_mx_hostname FROM tlsrpt.failure_details") == odd);
  CHECK(query1(db.url(),
               "SELECT coalesce(receiving_mx_helo, '<null>') FROM tlsrpt.failure_details") ==
        "\\N");
  CHECK(query1(db.url(), "SELECT additional_information FROM tlsrpt.failure_details") == "nulbyte");
  CHECK(query1(db.url(), "SELECT failure_reason_code FROM tlsrpt.failure_details") ==
        "latin1 caf\xef\xbf\xbd");
  CHECK(query1(db.url(),
               "SELECT (receiving_ip IS NULL)::text || '|' || receiving_ip_raw FROM "
               "tlsrpt.failure_details") == "true|192.0.2.1\t(tab)");
  // The policy reference written by COPY points at the report's policy.
  CHECK(query1(db.url(),
               "SELECT count(*) FROM tlsrpt.failure_details f JOIN tlsrpt.policies p ON "
               "p.id = f.policy_ref AND p.report_ref = f.report_ref") == "1");
  // Stored again: the same identity (the odd text compares equal), a duplicate.
  auto again = imap_message(2, {r});
  again.reports[0].raw_json = msg.reports[0].raw_json;
  CHECK(store.write(std::span(&again, 1))[0].result == st::outcome::duplicate);
  // An escaped backslash followed by "u0000" is text, not the escape, and stays as it is.
  auto third = imap_message(3, {make_report("Third", "t", 1, {{}})});
  third.reports[0].raw_json = R"({"a":"x\\u0000y","b":"\u0000","c":"\\\u0000"})";
  REQUIRE(store.write(std::span(&third, 1))[0].result == st::outcome::stored);
  CHECK(query1(db.url(),
               "SELECT (raw_json->>'a') || '|' || (raw_json->>'b') || '|' || (raw_json->>'c') "
               "FROM tlsrpt.reports WHERE report_id = 't'") ==
        "x\\u0000y|\xef\xbf\xbd|\\\xef\xbf\xbd");
}

TEST_CASE("a batch with many reports, duplicates inside it and a conflict keeps every reference") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  const auto first = imap_message(1, {make_report("Org", "seen", 2, {{.successful = 1}})});
  const auto first_res = store.write(std::span(&first, 1));
  REQUIRE(first_res[0].result == st::outcome::stored);
  std::vector<st::message_input> batch;
  for (std::uint32_t i = 0; i < 40; ++i) {
    const std::uint32_t k = i % 30;  // the last ten repeat the first ten exactly
    std::vector<policy_spec> policies(1 + k % 3);
    for (auto& p : policies) {
      p.failed = k % 4;
      for (std::uint32_t d = 0; d < k % 4; ++d) p.details.push_back({.failed = 1});
    }
    batch.push_back(
        imap_message(10 + i, {make_report("Org", "r" + std::to_string(k), 1, policies)}));
  }
  // A different version of the report stored first.
  batch.push_back(imap_message(100, {make_report("Org", "seen", 2, {{.successful = 2}})}));
  const auto res = store.write(batch);
  REQUIRE(res.size() == 41);
  int stored = 0, duplicates = 0;
  for (std::size_t i = 0; i < 40; ++i) {
    stored += res[i].result == st::outcome::stored ? 1 : 0;
    duplicates += res[i].result == st::outcome::duplicate ? 1 : 0;
  }
  CHECK(stored == 30);
  CHECK(duplicates == 10);
  CHECK(res[40].result == st::outcome::conflict);
  CHECK(res[40].report_ids == first_res[0].report_ids);
  CHECK(res[35].report_ids == res[5].report_ids);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 31);
  // Every detail's policy belongs to its report, and each report has its policies in order.
  CHECK(count(db.url(),
              "SELECT count(*) FROM tlsrpt.failure_details f LEFT JOIN tlsrpt.policies p ON "
              "p.id = f.policy_ref AND p.report_ref = f.report_ref WHERE p.id IS NULL") == 0);
  CHECK(count(db.url(),
              "SELECT count(*) FROM tlsrpt.reports r WHERE policy_count <> (SELECT "
              "count(*) FROM tlsrpt.policies p WHERE p.report_ref = r.id) OR failed_sessions "
              "<> (SELECT coalesce(sum(failed_sessions), 0) FROM tlsrpt.failure_details f "
              "WHERE f.report_ref = r.id)") == 0);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.conflicts") == 1);
}

TEST_CASE("an address that is not valid is kept as text") {
  scratch_database db;
  migrated(db.url());
  const auto msg = imap_message(
      1, {make_report(
             "Odd", "ip", 1,
             {{.failed = 2,
               .details = {
                   {.failed = 1, .receiving_ip = "mx1.example.com", .sending_ip = "2001:db8::1"},
                   {.failed = 1,
                    .receiving_ip = "300.1.2.3",
                    .sending_ip = "192.0.2.1/24 (NAT)"}}}})});
  st::pg_store store(db.url());
  CHECK(store.write(std::span(&msg, 1))[0].result == st::outcome::stored);
  CHECK(query1(db.url(),
               "SELECT string_agg(coalesce(host(receiving_ip), '-') || '|' || "
               "coalesce(receiving_ip_raw, '-') || '|' || coalesce(host(sending_mta_ip), "
               "'-') || '|' || coalesce(sending_mta_ip_raw, '-'), ' ; ' ORDER BY "
               "position) FROM tlsrpt.failure_details") ==
        "-|mx1.example.com|2001:db8::1|- ; -|300.1.2.3|-|192.0.2.1/24 (NAT)");
  CHECK(query1(db.url(),
               "SELECT string_agg(receiving_ip, ',' ORDER BY receiving_ip) FROM "
               "tlsrpt.failure_breakdown") == "300.1.2.3,mx1.example.com");
}

TEST_CASE("one message failing inside a batch is rejected while its neighbours commit") {
  scratch_database db;
  migrated(db.url());
  std::vector<st::message_input> batch;
  for (std::uint32_t uid = 1; uid <= 5; ++uid) {
    batch.push_back(imap_message(
        uid, {make_report("Batch", "b" + std::to_string(uid), 1, {{.successful = 1}})}));
  }
  batch[2].reports[0].raw_json = "{not json";  // jsonb refuses it: a data error of that message
  st::message_input not_report;
  not_report.facts = batch[0].facts;
  not_report.facts.key.uid = 6;
  not_report.kind = st::outcome::not_a_report;
  not_report.error = "no TLS report in the message";
  batch.push_back(not_report);

  st::pg_store store(db.url());
  const auto res = store.write(batch);
  REQUIRE(res.size() == 6);
  CHECK(res[0].result == st::outcome::stored);
  CHECK(res[1].result == st::outcome::stored);
  CHECK(res[2].result == st::outcome::rejected);
  CHECK(res[2].detail.find("22P02") != std::string::npos);
  CHECK(res[3].result == st::outcome::stored);
  CHECK(res[4].result == st::outcome::stored);
  CHECK(res[5].result == st::outcome::not_a_report);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 4);
  CHECK(query1(db.url(),
               "SELECT string_agg(uid || ':' || outcome, ' ' ORDER BY uid) FROM "
               "tlsrpt.messages") ==
        "1:stored 2:stored 3:rejected 4:stored 5:stored 6:not_a_report");
  CHECK(query1(db.url(), "SELECT error FROM tlsrpt.messages WHERE uid = 3").find("json") !=
        std::string::npos);
  CHECK(query1(db.url(), "SELECT error FROM tlsrpt.messages WHERE uid = 6") ==
        "no TLS report in the message");
}

TEST_CASE("a row refused inside COPY rejects its message while its neighbours commit") {
  scratch_database db;
  migrated(db.url());
  // Nothing the store sends fails COPY by itself, so the test database refuses one value.
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec(
        "ALTER TABLE tlsrpt.failure_details ADD CONSTRAINT test_refuse CHECK "
        "(result_type <> 'refused-by-test')");
    tx.commit();
  }
  std::vector<st::message_input> batch;
  for (std::uint32_t uid = 1; uid <= 4; ++uid) {
    batch.push_back(imap_message(
        uid, {make_report("Copy", "c" + std::to_string(uid), 1,
                          {{.failed = 2, .details = {{.failed = 1}, {.failed = 1}}}})}));
  }
  batch[1].reports[0].parsed.policies[0].failure_details[1].result_raw = "refused-by-test";
  st::pg_store store(db.url());
  const auto res = store.write(batch);
  REQUIRE(res.size() == 4);
  CHECK(res[0].result == st::outcome::stored);
  CHECK(res[1].result == st::outcome::rejected);
  CHECK(res[1].detail.find("23514") != std::string::npos);
  CHECK(res[1].detail.find("copy_failure_details") != std::string::npos);
  CHECK(res[2].result == st::outcome::stored);
  CHECK(res[3].result == st::outcome::stored);
  // No row of the refused message is left behind, the others are complete.
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 3);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.policies") == 3);
  CHECK(count(db.url(), "SELECT count(*) FROM tlsrpt.failure_details") == 6);
  CHECK(query1(db.url(), "SELECT outcome FROM tlsrpt.messages WHERE uid = 2") == "rejected");
  // The connection is still good for the next batch.
  const auto next = imap_message(9, {make_report("Copy", "c9", 1, {{}})});
  CHECK(store.write(std::span(&next, 1))[0].result == st::outcome::stored);
}

TEST_CASE("the ledger answers which UIDs are done and counts failed attempts") {
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  std::vector<st::message_input> batch = {imap_message(10, {make_report("L", "1", 1, {{}})}),
                                          imap_message(11, {})};
  batch[1].kind = st::outcome::rejected;
  batch[1].error = "report: policies: expected an array";
  store.write(batch);
  const auto key12 = imap_message(12, {}).facts.key;
  CHECK(store.record_attempt(key12, "database unreachable") == 1);
  CHECK(store.record_attempt(key12, "database unreachable") == 2);

  const std::vector<std::uint32_t> asked = {9, 10, 11, 12};
  CHECK(store.done_uids("main", "INBOX", 1, asked) == std::vector<std::uint32_t>{10, 11});
  CHECK(store.done_uids("main", "INBOX", 2, asked).empty());  // another UIDVALIDITY
  CHECK(store.done_uids("other", "INBOX", 1, asked).empty());
  const auto done = store.done_messages("main", "INBOX", 1, asked);
  REQUIRE(done.size() == 2);
  CHECK(done[0].result == st::outcome::stored);
  CHECK(done[1].result == st::outcome::rejected);
  CHECK(query1(db.url(),
               "SELECT (outcome IS NULL)::text || attempts || error FROM "
               "tlsrpt.messages WHERE uid = 12") == "true2database unreachable");

  // A file message (no UID) is identified by its digest.
  st::message_key file;
  file.source = "file";
  file.folder = "/tmp/x.eml";
  file.sha256 = st::sha256_hex("file bytes");
  CHECK(store.record_attempt(file, "oops") == 1);
  CHECK(store.record_attempt(file, "oops") == 2);
}

TEST_CASE("a connection that cannot be made is a transient error") {
  st::pg_store store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  const std::vector<std::uint32_t> uids = {1};
  try {
    store.done_uids("main", "INBOX", 1, uids);
    FAIL("connecting to a closed port succeeded");
  } catch (const st::error& e) {
    CHECK(e.transient());
    CHECK(std::string(e.what()).starts_with("store: cannot read the ledger: "));
    CHECK(e.sqlstate().starts_with("08"));
  }
  CHECK_THROWS_AS(st::check_connection("postgresql://nobody@127.0.0.1:1/none"), st::error);
  CHECK_THROWS_WITH_AS(st::migrate("postgresql://nobody@127.0.0.1:1/none"),
                       doctest::Contains("store: cannot migrate the schema"), st::error);
}

TEST_CASE("an error that is not the message's fault fails the whole write, not transient") {
  scratch_database db;  // not migrated: tlsrpt.reports does not exist
  st::pg_store store(db.url());
  const auto msg = imap_message(1, {make_report("X", "1", 1, {{}})});
  try {
    store.write(std::span(&msg, 1));
    FAIL("writing without a schema succeeded");
  } catch (const st::error& e) {
    CHECK_FALSE(e.transient());
    // The first statement of a write looks up which of its reports are stored already.
    CHECK(e.sqlstate() == "42P01");
    CHECK(e.statement() == "select_reports");
  }
}

TEST_CASE("the SQLSTATE classification marks retryable failures transient") {
  const std::vector<std::uint32_t> uids = {1};
  scratch_database db;
  migrated(db.url());
  st::pg_store store(db.url());
  CHECK(store.done_uids("main", "INBOX", 1, uids).empty());
  // The server terminates our session (57P01): the next call fails transiently, the one after
  // reconnects.
  query1(db.url(),
         "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
         "datname = current_database() AND pid <> pg_backend_pid()");
  try {
    store.done_uids("main", "INBOX", 1, uids);
  } catch (const st::error& e) {
    CHECK(e.transient());
  }
  CHECK(store.done_uids("main", "INBOX", 1, uids).empty());
}

TEST_CASE("a mailbox folder is claimed by one store at a time, and freed with its session") {
  scratch_database db;
  migrated(db.url());
  auto first = std::make_unique<st::pg_store>(db.url());
  st::pg_store second(db.url());
  CHECK(first->try_lock_mailbox("main", "INBOX"));
  CHECK_FALSE(second.try_lock_mailbox("main", "INBOX"));
  CHECK(second.try_lock_mailbox("main", "Archive"));  // another folder is another claim
  CHECK(second.try_lock_mailbox("other", "INBOX"));   // and so is another mailbox
  first->unlock_mailbox("main", "INBOX");
  CHECK(second.try_lock_mailbox("main", "INBOX"));
  second.unlock_mailbox("main", "INBOX");

  // A collector killed while holding it: the session ends, and so does the claim.
  CHECK(first->try_lock_mailbox("main", "INBOX"));
  CHECK_FALSE(second.try_lock_mailbox("main", "INBOX"));
  first.reset();
  // The server ends the session a moment after the client hangs up.
  bool claimed = false;
  for (int i = 0; i < 200 && !claimed; ++i) {
    claimed = second.try_lock_mailbox("main", "INBOX");
    if (!claimed) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  CHECK(claimed);
}
