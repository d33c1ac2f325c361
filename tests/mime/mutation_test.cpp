// SPDX-License-Identifier: Apache-2.0
// Negative and odd cases, made by mutating good samples or building report mail around them.
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>

#include "helpers.hpp"
#include "support/support.hpp"
#include "tlsrpt/mime/extract.hpp"
#include "tlsrpt/report/report.hpp"

namespace {

namespace mime = tlsrpt::mime;
namespace h = tlsrpt::test::mime;

// One good report mail of our own (a gzip attachment in base64), mutated by each case.
std::string good_mail() {
  return tlsrpt::test::read_file(tlsrpt::test::data_dir() /
                                 "mail/inbox-example.com-2026-11-02.eml");
}

// The JSON of good_mail(), to rebuild messages around it.
std::string good_json() {
  const auto x = h::extract(good_mail());
  REQUIRE(x.kind == mime::outcome::reports_found);
  return x.reports.at(0).json;
}

std::string gz_mail(const std::string& gz, const char* type = "application/tlsrpt+gzip") {
  return h::report_mail(type, "r.json.gz", "base64", h::base64(gz));
}

}  // namespace

TEST_CASE("truncated base64 is a broken report naming zlib's cause") {
  std::string m = good_mail();
  const auto start = m.find("Content-Transfer-Encoding: base64");
  REQUIRE(start != std::string::npos);
  const auto body = m.find("\n\n", start) + 2;
  const auto end = m.find("\n--", body);
  m.erase(body + (end - body) / 2, end - body - (end - body) / 2);
  const auto x = h::extract(m);
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reports.empty());
  CHECK(
      x.reason ==
      "cannot inflate report part \"inbox.example!example.com!1793577600!1793663999!001.json.gz\": "
      "unexpected end of compressed data (zlib -5)");
}

TEST_CASE("a flipped gzip CRC is a broken report") {
  std::string gz = h::gzip(good_json());
  gz[gz.size() - 8] = static_cast<char>(gz[gz.size() - 8] ^ 0x01);
  const auto x = h::extract(gz_mail(gz));
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason == "cannot inflate report part \"r.json.gz\": incorrect data check (zlib -3)");
}

TEST_CASE("a truncated gzip is a broken report") {
  const std::string gz = h::gzip(good_json());
  const auto x = h::extract(gz_mail(gz.substr(0, gz.size() / 2)));
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason.find("unexpected end of compressed data (zlib -5)") != std::string::npos);
}

TEST_CASE("a gzip bomb is rejected at the decompressed size limit") {
  // 64 members of 16 MiB of zeros: 1 GiB inflated from about 1 MiB.
  const std::string member = h::gzip(std::string(16u << 20, '\0'), 9);
  std::string bomb;
  for (int i = 0; i < 64; ++i) bomb += member;
  CHECK(bomb.size() < (2u << 20));
  const auto x = h::extract(gz_mail(bomb));
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason ==
        "cannot inflate report part \"r.json.gz\": decompressed size exceeds the limit of 20971520 "
        "bytes");
}

TEST_CASE("a part declared gzip that holds plain JSON is read as JSON") {
  const std::string json = good_json();
  const auto x = h::extract(h::report_mail("application/tlsrpt+gzip", "r.json.gz", "base64",
                                           h::base64("\xEF\xBB\xBF\n " + json)));
  REQUIRE(x.kind == mime::outcome::reports_found);
  CHECK(x.reports[0].compression == "none");
  CHECK(x.reports[0].content_type == "application/tlsrpt+gzip");
  CHECK(tlsrpt::report::parse(x.reports[0].json).report_id ==
        "2026.11.02T00.00.00Z+example.com@inbox.example");
}

TEST_CASE("a part declared JSON or octet-stream that holds gzip is inflated") {
  const std::string gz = h::gzip(good_json());
  for (const char* type : {"application/tlsrpt+json", "application/octet-stream",
                           "application/x-gzip", "text/plain"}) {
    CAPTURE(std::string(type));
    const auto x = h::extract(gz_mail(gz, type));
    REQUIRE_MESSAGE(x.kind == mime::outcome::reports_found, x.reason);
    CHECK(x.reports[0].compression == "gzip");
    CHECK(x.reports[0].json == good_json());
  }
}

TEST_CASE("a multipart whose final boundary is missing still yields its report") {
  std::string m = good_mail();
  const auto last = m.rfind("--\n");
  REQUIRE(last != std::string::npos);
  m.erase(last, 2);  // "--boundary--\n" becomes "--boundary\n"
  const auto x = h::extract(m);
  REQUIRE(x.kind == mime::outcome::reports_found);
  CHECK(x.reports.size() == 1);
}

TEST_CASE("a report forwarded as message/rfc822 is found with the outer envelope") {
  const std::string m =
      "From: Admin <admin@example.com>\nSubject: Fwd: report\nMessage-ID: <fwd@example.com>\n"
      "Date: Thu, 05 Nov 2026 09:00:00 +0000\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: text/plain\n\nsee "
      "attached\n--outer\nContent-Type: message/rfc822\n\n" +
      good_mail() + "\n--outer--\n";
  const auto x = h::extract(m);
  REQUIRE(x.kind == mime::outcome::reports_found);
  CHECK(x.env.message_id == "fwd@example.com");
  CHECK(x.env.from == "admin@example.com");
  CHECK(x.env.tls_report_domain == "example.com");  // from the forwarded message
  CHECK(x.reports[0].json == good_json());
}

TEST_CASE("forwarding deeper than the nesting limit is not followed") {
  std::string m = good_mail();
  for (int i = 0; i < 3; ++i) {
    m = "From: a@example.com\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n" + m;
  }
  mime::limits lim;
  CHECK(h::extract(m, lim).kind == mime::outcome::reports_found);
  lim.max_nesting = 2;
  const auto x = h::extract(m, lim);
  CHECK(x.kind == mime::outcome::not_a_report);
  CHECK(x.reason.find("nested deeper than 2 levels") != std::string::npos);
}

TEST_CASE("two report parts in one message are both extracted") {
  const std::string a = h::gzip(h::sample_json("first"));
  const std::string b = h::sample_json("second");
  const std::string m =
      "From: r@reporter.example\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; boundary=\"x\"; report-type=\"TLSRPT\"\n\n"
      "--x\nContent-Type: text/html\n\n<p>two</p>\n"
      "--x\nContent-Type: application/tlsrpt+gzip; name=a.json.gz\nContent-Transfer-Encoding: "
      "base64\n\n" +
      h::base64(a, 64) +
      "--x\nContent-Type: application/tlsrpt+json\nContent-Disposition: attachment; "
      "filename*=UTF-8''b%20report.json\n\n" +
      b + "\n--x--\n";
  const auto x = h::extract(m);
  REQUIRE(x.kind == mime::outcome::reports_found);
  REQUIRE(x.reports.size() == 2);
  CHECK(tlsrpt::report::parse(x.reports[0].json).report_id == "first");
  CHECK(x.reports[0].filename == "a.json.gz");
  CHECK(tlsrpt::report::parse(x.reports[1].json).report_id == "second");
  CHECK(x.reports[1].filename == "b report.json");  // RFC 2231
  CHECK(x.reports[1].transfer_encoding.empty());
}

TEST_CASE("base64 with odd line lengths and stray whitespace decodes") {
  const std::string b64 = h::base64(h::gzip(good_json()), 13);
  std::string sloppy;
  for (char c : b64) sloppy += c == '\n' ? std::string(" \t\n ") : std::string(1, c);
  const auto x = h::extract(h::report_mail("application/tlsrpt+gzip", "", "BASE64", sloppy));
  REQUIRE_MESSAGE(x.kind == mime::outcome::reports_found, x.reason);
  CHECK(x.reports[0].json == good_json());
  CHECK(x.reports[0].filename == std::nullopt);
}

TEST_CASE("a message whose whole body is the report is found") {
  const std::string m =
      "From: r@reporter.example\nTLS-Report-Domain: example.com\nMIME-Version: 1.0\n"
      "Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n" +
      h::base64(h::gzip(h::sample_json("whole")));
  const auto x = h::extract(m);
  REQUIRE(x.kind == mime::outcome::reports_found);
  CHECK(tlsrpt::report::parse(x.reports[0].json).report_id == "whole");
}

TEST_CASE("a message with only headers is not a report") {
  const auto x = h::extract("From: a@example.com\r\nSubject: nothing\r\n");
  CHECK(x.kind == mime::outcome::not_a_report);
  CHECK(x.env.subject == "nothing");
}

TEST_CASE("binary garbage is not a report and does not crash") {
  std::mt19937 rng(4);
  for (int round = 0; round < 50; ++round) {
    std::string junk(static_cast<std::size_t>(rng() % 5000), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    const auto x = h::extract(junk);
    CHECK(x.kind != mime::outcome::reports_found);
  }
  CHECK(h::extract("").kind == mime::outcome::not_a_report);
  CHECK(mime::extract_any("\x01\x02garbage").kind == mime::outcome::not_a_report);
}

TEST_CASE("a message over the size limit is a broken report") {
  mime::limits lim;
  lim.max_message_bytes = 1000;
  const auto x = h::extract(good_mail(), lim);
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason.find("exceed the limit of 1000 bytes") != std::string::npos);
}

TEST_CASE("a report over the decompressed size limit is a broken report") {
  mime::limits lim;
  lim.max_report_bytes = 100;
  CHECK(h::extract(good_mail(), lim).kind == mime::outcome::broken_report);
  const auto x = h::extract(
      h::report_mail("application/tlsrpt+json", "r.json", "", h::sample_json("big")), lim);
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason.find("exceed the limit of 100 bytes") != std::string::npos);
}

TEST_CASE("a zip report is a broken report saying zip is not supported") {
  const auto x = h::extract(h::report_mail("application/zip", "r.zip", "base64",
                                           h::base64(std::string("PK\x03\x04rest", 8))));
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason == "cannot decode report part \"r.zip\": zip archives are not supported");
}

TEST_CASE("a TLS multipart/report without a report part is a broken report") {
  const auto x = h::extract(h::report_mail("text/plain", "", "", "just text"));
  CHECK(x.kind == mime::outcome::broken_report);
  CHECK(x.reason.starts_with("cannot find the report part"));
}

TEST_CASE("a JSON attachment in ordinary mail is not a report unless it looks like one") {
  const std::string base =
      "From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m\n\n"
      "--m\nContent-Type: text/plain\n\nhi\n--m\nContent-Type: application/json\n\n";
  const auto x = h::extract(base + "{\"name\":\"package\"}\n--m--\n");
  CHECK(x.kind == mime::outcome::not_a_report);
  const auto y = h::extract(base + h::sample_json("loose") + "\n--m--\n");
  REQUIRE(y.kind == mime::outcome::reports_found);
  CHECK(y.reports[0].content_type == "application/json");
}

TEST_CASE("extract_any tells a message, bare JSON and gzip apart") {
  const std::string json = h::sample_json("any");
  const auto j = mime::extract_any("\xEF\xBB\xBF  " + json);
  REQUIRE(j.kind == mime::outcome::reports_found);
  CHECK(j.reports[0].compression == "none");
  const auto g = mime::extract_any(h::gzip(json));
  REQUIRE(g.kind == mime::outcome::reports_found);
  CHECK(g.reports[0].compression == "gzip");
  CHECK(g.reports[0].json == json);
  const auto m = mime::extract_any(good_mail());
  REQUIRE(m.kind == mime::outcome::reports_found);
  CHECK(m.env.tls_report_domain == "example.com");
  const auto z = mime::extract_any(std::string("PK\x03\x04....", 8));
  CHECK(z.kind == mime::outcome::broken_report);
  CHECK(z.reason.find("zip archives are not supported") != std::string::npos);
  const auto bad = mime::extract_any(h::gzip(json).substr(0, 20));
  CHECK(bad.kind == mime::outcome::broken_report);
}
