// SPDX-License-Identifier: Apache-2.0
// Notifications against real receivers (tests/monitor/sinks.py: aiosmtpd and an HTTP server)
// and a real database: a finding notifies once when it opens and once when it resolves,
// across rounds and restarts; a failed delivery is retried after its backoff and then sent
// once; sender-controlled text stays data in every body.
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "app/cli.hpp"
#include "monitor/sinks.hpp"
#include "store/fixtures.hpp"
#include "support/support.hpp"
#include "tlsrpt/imap/curl_mailbox.hpp"
#include "tlsrpt/monitor/alerts.hpp"

namespace st = tlsrpt::store;
namespace mon = tlsrpt::monitor;
namespace cfg = tlsrpt::config;
using tlsrpt::test::scratch_database;
using tlsrpt::test::app::cli;
using tlsrpt::test::app::quote;
using tlsrpt::test::app::sql;
using tlsrpt::test::monitor::dead_port;
using tlsrpt::test::monitor::json_get;
using tlsrpt::test::monitor::sinks;
using namespace tlsrpt::test::store;

namespace {

const tlsrpt::imap::library curl_global;  // curl_global_init once, before any test runs

mon::finding cert_finding(const std::string& host = "mx1.example.com") {
  return {.key = "certificate/example.com/certificate-expired/" + host + "/192.0.2.1",
          .rule = "certificate",
          .level = mon::severity::critical,
          .policy_domain = "example.com",
          .subject = host,
          .title = "example.com: certificate-expired at MX " + host + " (192.0.2.1)",
          .numbers = {{"failed_sessions", 12}},
          .meaning = "The MX presented an expired certificate.",
          .to_check = "Renew the certificate of " + host + "."};
}

cfg::alerts alerts_to(const sinks& s, bool with_mail = true) {
  cfg::alerts a;
  a.webhooks.push_back({.url = s.hook_url("/json"), .fmt = cfg::webhook::format::json});
  if (with_mail) {
    cfg::email e;
    e.smtp_url = s.smtp_url();
    e.from = "tlsrpt@example.net";
    e.to = {"postmaster@example.net"};
    e.allow_plaintext = true;  // the sink offers no STARTTLS
    a.mail = e;
  }
  return a;
}

// One round as `run` makes it, with channels built anew (as after a restart) when asked.
mon::notify_result round(const std::string& url, const cfg::alerts& a,
                         const std::vector<mon::finding>& findings) {
  st::pg_monitor db(url);
  const auto channels = mon::channels_from(a, "");
  return mon::notify(db, findings, channels, a);
}

}  // namespace

TEST_CASE("a finding notifies once when it opens and once when it resolves, across a restart") {
  scratch_database sdb;
  migrated(sdb.url());
  sinks s;
  const auto a = alerts_to(s);
  const std::vector<mon::finding> open{cert_finding()};

  auto r = round(sdb.url(), a, open);
  CHECK(r.opened == 1);
  CHECK(r.delivered == 2);
  REQUIRE(s.hooks().size() == 1);
  REQUIRE(s.mails().size() == 1);
  const auto hook = s.hooks()[0];
  CHECK(json_get(hook, "d[\"valid_json\"]") == "True");
  CHECK(json_get(hook, "d[\"content_type\"]") == "application/json");
  CHECK(json_get(hook, "d[\"parsed\"][\"event\"]") == "opened");
  CHECK(json_get(hook, "d[\"parsed\"][\"key\"]") == open[0].key);
  CHECK(json_get(hook, "d[\"parsed\"][\"resolved\"]") == "None");
  CHECK(json_get(hook, "d[\"parsed\"][\"finding\"][\"what_to_check\"]") == open[0].to_check);
  const auto mail = s.mails()[0];
  CHECK(json_get(mail, "d[\"subject\"]") == "[TLSRPT CRITICAL] " + open[0].title);
  CHECK(json_get(mail, "d[\"rcpt_tos\"]") == "['postmaster@example.net']");
  CHECK(json_get(mail, "d[\"mail_from\"]") == "tlsrpt@example.net");
  CHECK(json_get(mail, "d[\"defects\"]") == "0");
  CHECK(json_get(mail, "\"Renew the certificate of mx1.example.com.\" in d[\"text\"]") == "True");

  // Still open: two more rounds, the second with new channels and connection (a restart).
  r = round(sdb.url(), a, open);
  CHECK(r.opened == 0);
  CHECK(r.delivered == 0);
  r = round(sdb.url(), a, open);
  CHECK(r.delivered == 0);
  CHECK(s.hooks().size() == 1);
  CHECK(s.mails().size() == 1);

  // Gone: resolved once, to both channels.
  r = round(sdb.url(), a, {});
  CHECK(r.resolved == 1);
  CHECK(r.delivered == 2);
  r = round(sdb.url(), a, {});
  CHECK(r.resolved == 0);
  CHECK(r.delivered == 0);
  REQUIRE(s.hooks().size() == 2);
  REQUIRE(s.mails().size() == 2);
  CHECK(json_get(s.hooks()[1], "d[\"parsed\"][\"event\"]") == "resolved");
  CHECK(json_get(s.hooks()[1], "d[\"parsed\"][\"resolved\"]") != "None");
  CHECK(json_get(s.mails()[1], "d[\"subject\"]") == "[TLSRPT RESOLVED] " + open[0].title);
  CHECK(sql(sdb.url(),
            "SELECT count(*) || '/' || count(delivered) || '/' || sum(attempts)"
            " FROM tlsrpt.alert_deliveries") == "4/4/4");

  // Back again: a new opening, notified again.
  r = round(sdb.url(), a, open);
  CHECK(r.opened == 1);
  CHECK(s.hooks().size() == 3);
  CHECK(sql(sdb.url(), "SELECT count(*) FROM tlsrpt.alerts") == "2");
}

TEST_CASE("a failed delivery is retried after its backoff, then sent once") {
  scratch_database sdb;
  migrated(sdb.url());
  sinks s;
  const auto a = alerts_to(s);
  const std::vector<mon::finding> open{cert_finding(), cert_finding("mx2.example.com")};

  s.fail_http(true);
  s.fail_smtp(true);
  auto r = round(sdb.url(), a, open);
  CHECK(r.opened == 2);
  CHECK(r.delivered == 0);
  CHECK(r.failed == 2);  // each channel tried once, its second message put off
  CHECK(s.hooks().empty());
  CHECK(s.mails().empty());
  CHECK(sql(sdb.url(), "SELECT sum(attempts) FROM tlsrpt.alert_deliveries") == "2");
  CHECK(sql(sdb.url(), "SELECT count(*) FROM tlsrpt.alert_deliveries WHERE next_attempt > now()") ==
        "4");
  const std::string errors = sql(sdb.url(),
                                 "SELECT string_agg(last_error, ' | ' ORDER BY channel)"
                                 " FROM tlsrpt.alert_deliveries WHERE last_error IS NOT NULL");
  CHECK(errors.find("notify: cannot POST to http://127.0.0.1:") != std::string::npos);
  CHECK(errors.find("HTTP 503: busy  X-Injected: no") != std::string::npos);
  CHECK(errors.find("/json") == std::string::npos);  // the URL's path may hold a token
  CHECK(errors.find("notify: cannot send mail through smtp://127.0.0.1:") != std::string::npos);
  CHECK(errors.find("451") != std::string::npos);

  // Not due yet: the next round leaves them alone even though the receivers are back.
  s.fail_http(false);
  s.fail_smtp(false);
  r = round(sdb.url(), a, open);
  CHECK(r.delivered == 0);
  CHECK(r.failed == 0);
  CHECK(s.hooks().empty());

  // The backoff is over: each delivery is made once.
  sql(sdb.url(), "UPDATE tlsrpt.alert_deliveries SET next_attempt = now() - interval '1 second'");
  r = round(sdb.url(), a, open);
  CHECK(r.delivered == 4);
  CHECK(s.hooks().size() == 2);
  CHECK(s.mails().size() == 2);
  r = round(sdb.url(), a, open);
  CHECK(r.delivered == 0);
  CHECK(s.hooks().size() == 2);
  CHECK(sql(sdb.url(),
            "SELECT count(*) FILTER (WHERE delivered IS NOT NULL AND last_error IS NULL)"
            " FROM tlsrpt.alert_deliveries") == "4");
}

TEST_CASE("the backoff doubles from first_retry up to max_retry") {
  const mon::notify_options o{.first_retry = std::chrono::seconds(60),
                              .max_retry = std::chrono::seconds(600)};
  CHECK(mon::retry_delay(o, 1).count() == 60);
  CHECK(mon::retry_delay(o, 2).count() == 120);
  CHECK(mon::retry_delay(o, 4).count() == 480);
  CHECK(mon::retry_delay(o, 5).count() == 600);
  CHECK(mon::retry_delay(o, 40).count() == 600);
}

TEST_CASE("a dead webhook and a dead SMTP server are recorded as failures, not thrown") {
  scratch_database sdb;
  migrated(sdb.url());
  cfg::alerts a;
  a.webhooks.push_back({.url = "http://127.0.0.1:" + std::to_string(dead_port()) + "/hook",
                        .timeout = std::chrono::seconds(5)});
  cfg::email e;
  e.smtp_url = "smtp://127.0.0.1:" + std::to_string(dead_port());
  e.from = "tlsrpt@example.net";
  e.to = {"postmaster@example.net"};
  e.allow_plaintext = true;
  a.mail = e;
  const auto r = round(sdb.url(), a, {cert_finding()});
  CHECK(r.opened == 1);
  CHECK(r.failed == 2);
  const std::string errors =
      sql(sdb.url(),
          "SELECT string_agg(last_error, ' | ' ORDER BY channel) FROM tlsrpt.alert_deliveries");
  CHECK(errors.find("Couldn't connect") != std::string::npos);
  CHECK(errors.find("(7)") != std::string::npos);  // CURLE_COULDNT_CONNECT, kept
}

TEST_CASE("STARTTLS is required unless allow_plaintext: a plaintext server gets nothing") {
  scratch_database sdb;
  migrated(sdb.url());
  sinks s;
  auto a = alerts_to(s);
  a.webhooks.clear();
  a.mail->allow_plaintext = false;
  const auto r = round(sdb.url(), a, {cert_finding()});
  CHECK(r.failed == 1);
  CHECK(s.mails().empty());
  CHECK(sql(sdb.url(), "SELECT last_error FROM tlsrpt.alert_deliveries")
            .find("notify: cannot send mail through smtp://127.0.0.1:") == 0);
}

TEST_CASE("sender-controlled strings stay data in webhook bodies and mail headers") {
  scratch_database sdb;
  migrated(sdb.url());
  sinks s;
  cfg::alerts a = alerts_to(s);
  a.webhooks.push_back({.url = s.hook_url("/slack"), .fmt = cfg::webhook::format::slack});
  a.webhooks.push_back({.url = s.hook_url("/teams"), .fmt = cfg::webhook::format::teams});
  // An MX host name as a hostile reporter might write it.
  const std::string host =
      "mx.example.com\r\nBcc: victim@example.org\r\n\r\n\"},{\"event\":\"x\\ <!channel> "
      "<https://evil.example|click> [x](https://evil.example) \x1b[31m \xe2\x80\xae"
      "gnp.exe \xc3\xa9=?UTF-8?B?QmNjOiB4?=";
  auto f = cert_finding(host);
  const auto r = round(sdb.url(), a, {f});
  CHECK(r.delivered == 4);
  REQUIRE(s.hooks().size() == 3);
  REQUIRE(s.mails().size() == 1);

  for (const auto& h : s.hooks()) CHECK(json_get(h, "d[\"valid_json\"]") == "True");
  std::string json_hook, slack_hook, teams_hook;
  for (const auto& h : s.hooks()) {
    const auto path = json_get(h, "d[\"path\"]");
    (path == "/json" ? json_hook : path == "/slack" ? slack_hook : teams_hook) = h;
  }
  // JSON: the host arrives as the very string it was.
  CHECK(json_get(json_hook, "d[\"parsed\"][\"finding\"][\"subject\"] == " +
                                std::string("\"mx.example.com\\r\\nBcc: victim@example.org\\r\\n"
                                            "\\r\\n\\\"},{\\\"event\\\":\\\"x\\\\ <!channel> "
                                            "<https://evil.example|click> [x](https://"
                                            "evil.example) \\x1b[31m \\u202egnp.exe \\u00e9"
                                            "=?UTF-8?B?QmNjOiB4?=\"")) == "True");
  CHECK(json_get(json_hook, "d[\"parsed\"][\"event\"]") == "opened");
  // Slack: no mention, no link.
  const auto slack = json_get(slack_hook, "d[\"parsed\"][\"text\"]");
  CHECK(slack.find("<!channel>") == std::string::npos);
  CHECK(slack.find("&lt;!channel&gt;") != std::string::npos);
  CHECK(slack.find("<https://") == std::string::npos);
  // Teams: no Markdown link.
  const auto teams = json_get(teams_hook, "d[\"parsed\"][\"text\"]");
  CHECK(teams.find("[x](https") == std::string::npos);
  CHECK(teams.find("\\[x\\]\\(https") != std::string::npos);

  // Mail: one recipient (the configured one), no Bcc header, the subject one header line.
  const auto mail = s.mails()[0];
  CHECK(json_get(mail, "d[\"rcpt_tos\"]") == "['postmaster@example.net']");
  CHECK(json_get(mail, "[h[0] for h in d[\"headers\"]]") ==
        "['From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Auto-Submitted', "
        "'Content-Type', 'Content-Transfer-Encoding']");
  CHECK(json_get(mail, "d[\"defects\"]") == "0");
  const auto subject = json_get(mail, "d[\"subject\"]");
  CHECK(subject.find('\n') == std::string::npos);
  CHECK(subject.find("Bcc: victim@example.org") != std::string::npos);  // as text
  CHECK(subject.find("\xe2\x80\xae") == std::string::npos);             // no bidi override
  // The text part shows the controls instead of acting on them.
  CHECK(json_get(mail, "\"\\x1b\" in d[\"text\"]") == "False");
  CHECK(json_get(mail, "\"\\\\x1b\" in d[\"text\"]") == "True");
  const auto raw = s.raw_mail(1);
  CHECK(raw.find("\r\nBcc:") == std::string::npos);
  for (std::size_t at = 0, end; (end = raw.find("\r\n", at)) != std::string::npos; at = end + 2)
    CHECK(end - at <= 78);
}

TEST_CASE("check --notify sends what opened once, however often it runs") {
  scratch_database sdb;
  migrated(sdb.url());
  sinks s;
  st::pg_store db(sdb.url());
  db.write(std::vector<st::message_input>{imap_message(
      1, {make_report("Google Inc.", "g1", 1,
                      {{.successful = 1000,
                        .failed = 1,
                        .details = {{.result = "certificate-host-mismatch", .failed = 1}}}})})});
  tlsrpt::test::app::scratch_dir dir;
  const auto file = dir.path() / "config.yaml";
  tlsrpt::test::write_file(file, "alerts:\n  webhooks:\n    - url: " + s.hook_url("/json") + "\n");
  const std::string env = "TLSRPT_DATABASE_URL=" + quote(sdb.url());
  for (int i = 0; i < 3; ++i) {
    const auto r = cli("-c " + quote(file.string()) + " check --notify", env);
    CHECK(r.status == 2);
    CHECK(r.out.starts_with("TLSRPT CRITICAL"));
  }
  REQUIRE(s.hooks().size() == 1);
  CHECK(json_get(s.hooks()[0], "d[\"parsed\"][\"rule\"]") == "certificate");
  // Without --notify the state is not touched.
  CHECK(cli("-c " + quote(file.string()) + " check", env).status == 2);
  CHECK(sql(sdb.url(), "SELECT count(*) FROM tlsrpt.alerts") == "1");
}

TEST_CASE("the alert worker never makes submit() wait: passes queue while a round runs") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::size_t> seen;  // passes per round
  {
    mon::alert_worker w([&](std::vector<st::pass_record> passes) {
      std::unique_lock lock(mu);
      seen.push_back(passes.size());
      cv.notify_all();
      cv.wait(lock, [&] { return release; });  // a round stuck on a dead channel
    });
    w.submit({.mailbox = "a"});
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return seen.size() == 1; });
    }
    // The first round is stuck; these return at once and are folded into one next round.
    w.submit({.mailbox = "b", .ok = false, .error = "imap: cannot connect"});
    w.submit({.mailbox = "c"});
    CHECK(w.rounds() == 0);
    {
      const std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    while (w.rounds() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(seen == std::vector<std::size_t>{1, 2});
}
