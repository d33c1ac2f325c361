// SPDX-License-Identifier: Apache-2.0
// Every real sample in ../shared/corpus and every sample mail of our own goes through extract()
// with its envelope and report facts checked.
#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "support/support.hpp"
#include "tlsrpt/mime/extract.hpp"
#include "tlsrpt/report/report.hpp"

namespace {

namespace mime = tlsrpt::mime;
namespace h = tlsrpt::test::mime;
using std::nullopt;
using opt = std::optional<std::string>;

struct expected {
  const char* file;  // relative to its directory (corpus_dir() or data_dir())
  opt message_id;
  opt from;
  opt date;
  opt report_domain;
  opt submitter;
  bool dkim;
  // The report part; content_type == nullptr means "not a report".
  const char* content_type;
  opt filename;
  const char* transfer_encoding;
  const char* compression;
  const char* organization;
  const char* report_id;
  const char* date_begin;
  std::size_t policies;
  opt policy_domain;
  std::int64_t successes;
  std::int64_t failures;
};

// Values read off each sample and checked against SOURCES.tsv's description of it.
const std::vector<expected> corpus_samples = {
    {"domainaware__parsedmarc/google.com_smtp_tls_report.eml",
     "66d83c20.050a0220.a0566.1e8dtls@google.com", "noreply-smtp-tls-reporting@google.com",
     "2024-09-04T10:53:20Z", "cardinalhealth.ca", "google.com", true, "application/tlsrpt+gzip",
     "google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz", "base64", "gzip",
     "Google Inc.", "2024-09-03T00:00:00Z_cardinalhealth.ca", "2024-09-03T00:00:00Z", 1,
     "cardinalhealth.ca", 48, 0},
    {"isseis__tlsrpt-digest/tlsrpt_failure.eml", "6a049c05.00000000.3554e0.3524tls@google.com",
     "noreply-smtp-tls-reporting@google.com", "2026-05-13T15:43:01Z", "example.com", "google.com",
     true, "application/tlsrpt+gzip", "google.com!example.com!1778544000!1778630399!001.json.gz",
     "base64", "gzip", "Google Inc.", "2026-02-08T00:00:00Z_example.com", "2026-02-08T00:00:00Z", 1,
     "example.com", 4523, 2},
    {"isseis__tlsrpt-digest/tlsrpt_google.eml", "6a049c05.00000000.3554e0.3524tls@google.com",
     "noreply-smtp-tls-reporting@google.com", "2026-05-13T15:43:01Z", "example.com", "google.com",
     true, "application/tlsrpt+gzip", "google.com!example.com!1778544000!1778630399!001.json.gz",
     "base64", "gzip", "Google Inc.", "2026-05-12T00:00:00Z_example.com", "2026-05-12T00:00:00Z", 1,
     "example.com", 4, 0},
    {"isseis__tlsrpt-digest/tlsrpt_success_google_1.eml",
     "6a034af0.00000000.3a4de4.4c68tls@google.com", "noreply-smtp-tls-reporting@google.com",
     "2026-05-12T15:44:48Z", "example.com", "google.com", true, "application/tlsrpt+gzip",
     "google.com!example.com!1778457600!1778543999!001.json.gz", "base64", "gzip", "Google Inc.",
     "2026-05-11T00:00:00Z_example.com", "2026-05-11T00:00:00Z", 1, "example.com", 1, 0},
    {"isseis__tlsrpt-digest/tlsrpt_success_google_2.eml",
     "6a049c05.00000000.3554e0.3524tls@google.com", "noreply-smtp-tls-reporting@google.com",
     "2026-05-13T15:43:01Z", "example.com", "google.com", true, "application/tlsrpt+gzip",
     "google.com!example.com!1778544000!1778630399!001.json.gz", "base64", "gzip", "Google Inc.",
     "2026-05-12T00:00:00Z_example.com", "2026-05-12T00:00:00Z", 1, "example.com", 4, 0},
    {"isseis__tlsrpt-digest/tlsrpt_success_microsoft.eml",
     "134232617934286362+example.com@example.com", "tlsrpt-noreply@microsoft.com",
     "2026-05-14T21:32:30Z", "example.com", "microsoft.com", true, "application/tlsrpt+gzip",
     "microsoft.com!example.com!1778630400!1778716799!134232617934286362.json.gz", "base64", "gzip",
     "Microsoft Corporation", "134232617934286362+example.com", "2026-05-13T00:00:00Z", 1,
     "example.com", 2, 0},
    {"kravietz__tlsrpt-rs/empty.eml", "66ed5733.9c33.6d95655f@nagual.krvtz.net",
     "root@nagual.krvtz.net", "2024-09-20T11:06:27Z", nullopt, nullopt, false, nullptr, nullopt, "",
     "", "", "", "", 0, nullopt, 0, 0},
    {"kravietz__tlsrpt-rs/google1.eml", "66e813b9.050a0220.395bc2.4615tls@google.com",
     "noreply-smtp-tls-reporting@google.com", "2024-09-16T11:17:13Z", "krvtz.net", "google.com",
     true, "application/tlsrpt+gzip", "google.com!krvtz.net!1726358400!1726444799!001.json.gz",
     "base64", "gzip", "Google Inc.", "2024-09-15T00:00:00Z_krvtz.net", "2024-09-15T00:00:00Z", 1,
     "krvtz.net", 1, 0},
    {"kravietz__tlsrpt-rs/google2.eml", "66ec0644.050a0220.86df2.1302tls@google.com",
     "noreply-smtp-tls-reporting@google.com", "2024-09-19T11:08:52Z", "krvtz.net", "google.com",
     true, "application/tlsrpt+gzip", "google.com!krvtz.net!1726617600!1726703999!001.json.gz",
     "base64", "gzip", "Google Inc.", "2024-09-18T00:00:00Z_krvtz.net", "2024-09-18T00:00:00Z", 1,
     "krvtz.net", 2, 0},
    {"kravietz__tlsrpt-rs/mail.ru.eml", "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru",
     "noreply-smtp-tls-reporting@corp.mail.ru", "2023-01-26T00:10:38Z", "krvtz.net", "mail.ru",
     true, "application/tlsrpt+gzip", "mail.ru!krvtz.net!1674604800!1674691200!001.json.gz",
     "base64", "gzip", "Mail.ru", "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru",
     "2023-01-25T00:00:00Z", 1, "krvtz.net", 0, 1},
    {"kravietz__tlsrpt-rs/microsoft1.eml", "133708152202987951+krvtz.net@krvtz.net",
     "tlsrpt-noreply@microsoft.com", "2024-09-14T19:37:28Z", "krvtz.net", "microsoft.com", true,
     "application/tlsrpt+gzip",
     "microsoft.com!krvtz.net!1726185600!1726271999!133708152202987951.json.gz", "base64", "gzip",
     "Microsoft Corporation", "133708152202987951+krvtz.net", "2024-09-13T00:00:00Z", 2,
     "krvtz.net", 2, 0},
    {"marcbradshaw__mail-tls-rpt/email.eml", "00000000000013b408059ff0b6f0@google.com",
     "noreply-smtp-tls-reporting@google.com", "2020-03-03T10:24:39Z", "fastmaildmarc.com",
     "google.com", true, "application/tlsrpt+gzip",
     "google.com!fastmaildmarc.com!1583107200!1583193599!001.json.gz", "base64", "gzip",
     "Google Inc.", "2020-03-02T00:00:00Z_fastmaildmarc.com", "2020-03-02T00:00:00Z", 1,
     "fastmaildmarc.com", 343, 0},
    {"mjl-__mox/example.eml", "000000000000f47cc505e8c8905c@google.com",
     "noreply-smtp-tls-reporting@google.com", "2022-09-16T10:10:06Z", "test.xmox.nl", "google.com",
     true, "application/tlsrpt+gzip", "google.com!test.xmox.nl!1663200000!1663286399!001.json.gz",
     "base64", "gzip", "Google Inc.", "2022-09-15T00:00:00Z_test.xmox.nl", "2022-09-15T00:00:00Z",
     1, "test.xmox.nl", 3, 0},
    {"mjl-__mox/microsoft.eml", "133198585438131172+test.xmox.nl@test.xmox.nl",
     "tlsrpt-noreply@microsoft.com", "2023-02-03T05:09:22Z", "test.xmox.nl", "microsoft.com", true,
     "application/tlsrpt+gzip",
     "microsoft.com!test.xmox.nl!1673308800!1673395199!133198585438131172.json.gz", "base64",
     "gzip", "Microsoft Corporation", "133198585438131172+test.xmox.nl", "2023-01-10T00:00:00Z", 1,
     "test.xmox.nl", 2, 0},
    {"robalexdev__tlsrpt-be/test.eml", nullopt, "tlsrpt@mail.sender.example.com",
     "2017-05-10T00:54:30Z", "example.net", "mail.sender.example.com", false,
     "application/tlsrpt+gzip", "mail.sender.example!example.com!1013662812!1013749130.json.gz",
     "base64", "gzip", "Company-X", "5065427c-23d3-47ca-b6e0-946ea0e8c4be", "2016-04-01T00:00:00Z",
     1, "company-y.example", 5326, 303},
    {"stalwartlabs__mail-auth/rpt01.eml", nullopt, "tlsrpt@mail.sender.example.com",
     "2017-05-10T00:54:30Z", "example.net", "mail.sender.example.com", false,
     "application/tlsrpt+gzip", "mail.sender.example!example.com!1013662812!1013749130.json.gz",
     "base64", "gzip", "Company-X", "5065427c-23d3-47ca-b6e0-946ea0e8c4be", "2016-04-01T00:00:00Z",
     1, "company-y.example", 5326, 303},
    {"stalwartlabs__mail-auth/rpt02.eml", nullopt, "tlsrpt@mail.sender.example.com",
     "2017-05-10T00:54:30Z", "example.net", "mail.sender.example.com", false, "application/tlsrpt",
     "mail.sender.example!example.com!1013662812!1013749130.json", "", "none", "Google Inc.",
     "2020-01-01T00:00:00Z_example.com", "2020-01-01T00:00:00Z", 1, "example.com", 23, 1},
};

const std::vector<expected> own_samples = {
    {"mail/forwarded-example.com-2026-11-02.eml",
     "c1d2e3f4-0a1b-4c5d-8e9f-a0b1c2d3e4f5@example.com", "alice@example.com",
     "2026-11-02T13:22:09Z", "example.com", "inbox.example", false, "application/tlsrpt+gzip",
     "inbox.example!example.com!1793491200!1793577599!001.json.gz", "base64", "gzip",
     "Inbox Example Inc.", "2026.11.01T00.00.00Z+example.com@inbox.example", "2026-11-01T00:00:00Z",
     1, "example.com", 1911, 0},
    {"mail/hosting-example.org-2026-11-08.eml", "tlsrpt.20261109030011.4f2a@relay.hosting.example",
     "tls-reports@hosting.example", "2026-11-09T03:00:11Z", "example.org", "hosting.example", false,
     "application/tlsrpt+json", "hosting.example!example.org!1794096000!1794182399.json", "7bit",
     "none", "Example Hosting GmbH", "hosting.example-20261108-example.org-0001",
     "2026-11-08T00:00:00Z", 1, "example.org", 12, 4},
    {"mail/inbox-example.com-2026-11-02.eml", "6a002006.050a0220.7a2.3etls@inbox.example",
     "noreply-smtp-tls-reporting@inbox.example", "2026-11-03T10:41:09Z", "example.com",
     "inbox.example", true, "application/tlsrpt+gzip",
     "inbox.example!example.com!1793577600!1793663999!001.json.gz", "base64", "gzip",
     "Inbox Example Inc.", "2026.11.02T00.00.00Z+example.com@inbox.example", "2026-11-02T00:00:00Z",
     1, "example.com", 1843, 0},
    {"mail/inbox-example.com-2026-11-09.eml", "6a00901b.050a0220.2259.117tls@inbox.example",
     "noreply-smtp-tls-reporting@inbox.example", "2026-11-10T10:41:16Z", "example.com",
     "inbox.example", true, "application/tlsrpt+gzip",
     "inbox.example!example.com!1794182400!1794268799!001.json.gz", "base64", "gzip",
     "Inbox Example Inc.", "2026.11.09T00.00.00Z+example.com@inbox.example", "2026-11-09T00:00:00Z",
     1, "example.com", 1795, 0},
    {"mail/inbox-example.org-2026-11-03.eml", "6a003009.050a0220.b73.5dtls@inbox.example",
     "noreply-smtp-tls-reporting@inbox.example", "2026-11-04T09:03:44Z", "example.org",
     "inbox.example", true, "application/tlsrpt+gzip",
     "inbox.example!example.org!1793664000!1793750399!001.json.gz", "base64", "gzip",
     "Inbox Example Inc.", "2026.11.03T00.00.00Z+example.org@inbox.example", "2026-11-03T00:00:00Z",
     1, "example.org", 412, 17},
    {"mail/inbox-example.org-2026-11-10.eml", "6a00a01e.050a0220.262a.136tls@inbox.example",
     "noreply-smtp-tls-reporting@inbox.example", "2026-11-11T09:05:02Z", "example.org",
     "inbox.example", true, "application/tlsrpt+gzip",
     "inbox.example!example.org!1794268800!1794355199!001.json.gz", "base64", "gzip",
     "Inbox Example Inc.", "2026.11.10T00.00.00Z+example.org@inbox.example", "2026-11-10T00:00:00Z",
     1, "example.org", 0, 429},
    {"mail/newsletter-not-a-report.eml", "renewal-2026-11-03-example.com@registrar.example",
     "news@registrar.example", "2026-11-03T08:00:00Z", nullopt, nullopt, false, nullptr, nullopt,
     "", "", "", "", "", 0, nullopt, 0, 0},
    {"mail/outlook-example.com-2026-11-04.eml", "134070493051415262+example.com@example.com",
     "tlsrpt-noreply@outlook.example", "2026-11-05T05:14:52Z", "example.com", "outlook.example",
     true, "application/tlsrpt+gzip",
     "outlook.example!example.com!1793750400!1793836799!134070493051415262.json.gz", "base64",
     "gzip", "Outlook Example Corporation", "134070493051415262+example.com",
     "2026-11-04T00:00:00Z", 2, "example.com", 926, 0},
    {"mail/outlook-example.org-2026-11-05.eml", "134070593052011162+example.org@example.org",
     "tlsrpt-noreply@outlook.example", "2026-11-06T05:20:11Z", "example.org", "outlook.example",
     true, "application/tlsrpt+gzip",
     "outlook.example!example.org!1793836800!1793923199!134070593052011162.json.gz", "base64",
     "gzip", "Outlook Example Corporation", "134070593052011162+example.org",
     "2026-11-05T00:00:00Z", 1, "example.org", 57, 9},
    {"mail/portal-example.org-2026-11-06.eml",
     "5f0c1a2e-9d3b-4c8e-a1f7-2b6d9e0c4a83@portal.example",
     "noreply-smtp-tls-reporting@corp.portal.example", "2026-11-06T00:10:38Z", "example.org",
     "portal.example", true, "application/tlsrpt+gzip",
     "portal.example!example.org!1793923200!1794009600!001.json.gz", "base64", "gzip",
     "Portal.example", "5f0c1a2e-9d3b-4c8e-a1f7-2b6d9e0c4a83@portal.example",
     "2026-11-06T00:00:00Z", 1, "example.org", 0, 3},
    {"mail/postfix-example.com-2026-11-07.eml",
     "179412870201.1187.2202546187306313405@mx.example.net", "noreply-tlsrpt@mx.example.net",
     "2026-11-07T23:05:02Z", "example.com", "mx.example.net", false, "application/tlsrpt+gzip",
     "mx.example.net!example.com!1794009600!1794095999!001.json.gz", "base64", "gzip",
     "mx.example.net", "2026-11-07T00:00:00Z_example.com", "2026-11-07T00:00:00Z", 1, nullopt, 38,
     0},
    {"mail/relay-example.com-2026-11-11.eml", "20261112060203.12345@relay.example",
     "tlsrpt@relay.example", "2026-11-12T06:02:03Z", nullopt, nullopt, false,
     "application/octet-stream", "relay.example!example.com!1794355200!1794441599.json.gz",
     "base64", "gzip", "Relay Example Ltd", "relay.example:20261111:example.com",
     "2026-11-11T00:00:00Z", 1, "example.com", 77, 0},
};

void check(const expected& e, const std::filesystem::path& path) {
  CAPTURE(path.string());
  const std::string bytes = tlsrpt::test::read_file(path);
  const mime::extraction x = h::extract(bytes);
  CHECK(x.env.message_id == e.message_id);
  CHECK(x.env.from == e.from);
  CHECK(x.env.date == e.date);
  CHECK(x.env.tls_report_domain == e.report_domain);
  CHECK(x.env.tls_report_submitter == e.submitter);
  CHECK(x.env.dkim_signature.has_value() == e.dkim);
  if (e.dkim) CHECK(x.env.dkim_signature->starts_with("v=1;"));
  if (e.content_type == nullptr) {
    CHECK(x.kind == mime::outcome::not_a_report);
    CHECK(x.reports.empty());
    CHECK_FALSE(x.reason.empty());
    return;
  }
  REQUIRE_MESSAGE(x.kind == mime::outcome::reports_found, x.reason);
  REQUIRE(x.reports.size() == 1);
  const mime::found_report& r = x.reports.front();
  CHECK(r.content_type == e.content_type);
  CHECK(r.filename == e.filename);
  CHECK(r.transfer_encoding == e.transfer_encoding);
  CHECK(r.compression == e.compression);
  const tlsrpt::report::report rep = tlsrpt::report::parse(r.json);
  CHECK(rep.organization_name == e.organization);
  CHECK(rep.report_id == e.report_id);
  CHECK(tlsrpt::report::format_timestamp(rep.date_begin) == e.date_begin);
  REQUIRE(rep.policies.size() == e.policies);
  CHECK(rep.policies[0].policy_domain == e.policy_domain);
  CHECK(rep.policies[0].total_successful_session_count == e.successes);
  CHECK(rep.policies[0].total_failure_session_count == e.failures);
}

std::set<std::string> eml_files(const std::filesystem::path& dir, bool recursive) {
  std::set<std::string> out;
  auto add = [&](const std::filesystem::path& p) {
    if (p.extension() == ".eml") out.insert(std::filesystem::relative(p, dir).generic_string());
  };
  if (recursive) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) add(e.path());
  } else {
    for (const auto& e : std::filesystem::directory_iterator(dir)) add(e.path());
  }
  return out;
}

}  // namespace

TEST_CASE("every .eml of the shared corpus is extracted with its expected facts" *
          doctest::test_suite("corpus")) {
  const auto dir = tlsrpt::test::corpus_dir();
  std::set<std::string> listed;
  for (const auto& e : corpus_samples) {
    check(e, dir / e.file);
    listed.insert(e.file);
  }
  // A sample added to the corpus must get its expectations here too.
  CHECK(eml_files(dir, true) == listed);
}

TEST_CASE("every sample mail of the project extracts as a report, except the newsletter") {
  const auto dir = tlsrpt::test::data_dir();
  std::set<std::string> listed;
  for (const auto& e : own_samples) {
    check(e, dir / e.file);
    listed.insert(std::string(e.file).substr(5));  // without "mail/"
  }
  CHECK(eml_files(dir / "mail", false) == listed);
}

TEST_CASE("plain text mail is not a report and says why") {
  const auto x =
      h::extract(tlsrpt::test::read_file(tlsrpt::test::data_dir() / "collector/not-a-report.eml"));
  CHECK(x.kind == mime::outcome::not_a_report);
  CHECK(x.reason == "no TLS report part in a text/plain message");
}

TEST_CASE("a CRLF message and its LF copy give the same report") {
  const auto lf =
      tlsrpt::test::read_file(tlsrpt::test::data_dir() / "mail/inbox-example.com-2026-11-02.eml");
  REQUIRE(lf.find('\r') == std::string::npos);
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const auto a = h::extract(crlf);
  const auto b = h::extract(lf);
  REQUIRE(a.kind == mime::outcome::reports_found);
  REQUIRE(b.kind == mime::outcome::reports_found);
  CHECK(a.reports[0].json == b.reports[0].json);
  CHECK(a.env.subject == b.env.subject);
}

TEST_CASE("the subject is decoded and header values are unfolded") {
  const auto x = h::extract(tlsrpt::test::read_file(tlsrpt::test::data_dir() /
                                                    "mail/hosting-example.org-2026-11-08.eml"));
  CHECK(x.env.subject ==
        "Report Domain: example.org Submitter: hosting.example Report-ID: "
        "<hosting.example-20261108-example.org-0001>");
  const auto y = h::extract(
      tlsrpt::test::read_file(tlsrpt::test::data_dir() / "mail/inbox-example.com-2026-11-02.eml"));
  REQUIRE(y.env.authentication_results.has_value());
  CHECK(y.env.authentication_results->starts_with("mx1.example.com;"));
  CHECK(y.env.authentication_results->find('\n') == std::string::npos);
  REQUIRE(y.env.dkim_signature.has_value());
  CHECK(y.env.dkim_signature->find("d=inbox.example; s=20250601;") != std::string::npos);
  CHECK(y.env.dkim_signature->find('\n') == std::string::npos);
}

TEST_CASE("the report of a mail whose subject disagrees with its JSON is taken from the JSON" *
          doctest::test_suite("corpus")) {
  // RFC 8460 §5.6: the JSON is authoritative; the Subject says 2026.05.12, the JSON 2026-02-08.
  const auto x = h::extract(tlsrpt::test::read_file(tlsrpt::test::corpus_dir() /
                                                    "isseis__tlsrpt-digest/tlsrpt_failure.eml"));
  REQUIRE(x.kind == mime::outcome::reports_found);
  CHECK(x.env.subject->find("2026.05.12") != std::string::npos);
  CHECK(tlsrpt::report::parse(x.reports[0].json).report_id == "2026-02-08T00:00:00Z_example.com");
}
