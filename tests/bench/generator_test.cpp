// SPDX-License-Identifier: Apache-2.0
// The benchmark corpus generator: deterministic, and every mail well-formed as what it claims
// to be. The checks decode the mails with a small scanner, zlib and RapidJSON, independent of
// the project's MIME and report modules (which the e2e tests check against these mails).
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "gen/generator.hpp"
#include "support/support.hpp"

namespace {

using tlsrpt::bench::gen_options;
using tlsrpt::bench::generate;
using tlsrpt::bench::mail_kind;

struct part {
  std::string headers;
  std::string body;
};

// The first part whose Content-Type is a report type (tlsrpt+gzip/+json, octet-stream).
bool report_part(std::string_view m, part& out) {
  std::size_t at = m.find("Content-Type: application/tlsrpt");
  if (at == std::string_view::npos) at = m.find("Content-Type: application/octet-stream");
  if (at == std::string_view::npos) return false;
  std::size_t end_headers = m.find("\n\n", at);
  std::size_t body = end_headers + 2;
  const std::size_t crlf = m.find("\r\n\r\n", at);
  if (crlf != std::string_view::npos && crlf < end_headers) {
    end_headers = crlf;
    body = crlf + 4;
  }
  REQUIRE(end_headers != std::string_view::npos);
  const std::size_t end = m.find("\n--", body);
  REQUIRE(end != std::string_view::npos);
  out.headers = std::string(m.substr(at, end_headers - at));
  out.body = std::string(m.substr(body, end - body));
  return true;
}

std::string base64_decode(std::string_view in) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '\r' || c == '\n' || c == '=') continue;
    const auto v = alphabet.find(c);
    REQUIRE_MESSAGE(v != std::string::npos, "not base64: " << static_cast<int>(c));
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xffu);
    }
  }
  return out;
}

// Returns false when the gzip stream is incomplete or corrupt.
bool gunzip(std::string_view gz, std::string& out) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  out.assign(gz.size() * 10 + 256, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.total_out == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended early
  }
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return rc == Z_STREAM_END;
}

// The report JSON carried by a report mail.
std::string report_json(const tlsrpt::bench::generated_mail& g) {
  part p;
  REQUIRE_MESSAGE(report_part(g.bytes, p), "no report part in a " << to_string(g.kind) << " mail");
  std::string bytes =
      p.headers.find("base64") != std::string::npos ? base64_decode(p.body) : p.body;
  if (bytes.size() >= 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b') {
    std::string json;
    REQUIRE_MESSAGE(gunzip(bytes, json), "gzip of a " << to_string(g.kind) << " mail is broken");
    return json;
  }
  // A 7bit JSON part ends with the line break that precedes the boundary.
  while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) bytes.pop_back();
  return bytes;
}

}  // namespace

TEST_CASE("the same seed gives the same bytes, another seed other bytes") {
  gen_options a;
  a.seed = 42;
  a.broken_fraction = 0.05;
  gen_options b = a;
  gen_options c = a;
  c.seed = 43;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < 300; ++i) {
    const auto x = generate(a, i);
    const auto y = generate(b, i);
    CHECK(x.bytes == y.bytes);
    CHECK(x.kind == y.kind);
    if (generate(c, i).bytes != x.bytes) ++differ;
  }
  CHECK(differ == 300);
}

TEST_CASE("every report mail carries JSON that parses with the expected report-id and counts") {
  gen_options opt;
  opt.seed = 7;
  std::size_t reports = 0;
  for (std::size_t i = 0; i < 1500; ++i) {
    const auto g = generate(opt, i);
    if (g.kind == mail_kind::not_a_report) continue;
    ++reports;
    CAPTURE(i);
    CAPTURE(to_string(g.kind));
    const std::string json = report_json(g);
    CHECK(json == g.json);
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(d.IsObject());
    REQUIRE(d.HasMember("report-id"));
    CHECK(std::string(d["report-id"].GetString()) == g.report_id);
    REQUIRE(d["policies"].IsArray());
    const auto& policies = d["policies"].GetArray();
    CHECK(static_cast<std::int64_t>(policies.Size()) == g.policies);
    CHECK(policies.Size() >= 1);
    CHECK(policies.Size() <= 3);
    std::int64_t ok = 0, failed = 0, details = 0;
    for (const auto& p : policies) {
      ok += p["summary"]["total-successful-session-count"].GetInt64();
      failed += p["summary"]["total-failure-session-count"].GetInt64();
      if (p.HasMember("failure-details")) details += p["failure-details"].GetArray().Size();
    }
    CHECK(ok == g.successful_sessions);
    CHECK(failed == g.failed_sessions);
    CHECK(details == g.failure_details);
    CHECK(details <= 10);
  }
  CHECK(reports > 1400);
}

TEST_CASE("every sender shape appears and report ids are unique across the corpus") {
  gen_options opt;
  opt.broken_fraction = 0.02;
  std::set<std::string> ids;
  std::set<mail_kind> kinds;
  for (std::size_t i = 0; i < 3000; ++i) {
    const auto g = generate(opt, i);
    kinds.insert(g.kind);
    if (!g.report_id.empty()) CHECK_MESSAGE(ids.insert(g.report_id).second, g.report_id);
  }
  CHECK(kinds.size() == 8);  // all six report shapes, not_a_report and broken
}

TEST_CASE("the not-a-report mails carry no report part and the totals count them") {
  gen_options opt;
  opt.seed = 3;
  tlsrpt::bench::totals t;
  std::int64_t without_report = 0;
  for (std::size_t i = 0; i < 2000; ++i) {
    const auto g = generate(opt, i);
    t.add(g);
    part p;
    if (!report_part(g.bytes, p)) {
      ++without_report;
      CHECK(g.kind == mail_kind::not_a_report);
      CHECK(g.report_id.empty());
    }
  }
  CHECK(without_report == t.not_a_report);
  CHECK(t.not_a_report > 20);  // about 3 % of 2,000
  CHECK(t.not_a_report < 100);
  CHECK(t.reports + t.not_a_report + t.broken == t.messages);
}

TEST_CASE("a broken mail's gzip does not inflate") {
  gen_options opt;
  opt.broken_fraction = 0.2;
  std::size_t broken = 0;
  for (std::size_t i = 0; i < 300; ++i) {
    const auto g = generate(opt, i);
    if (g.kind != mail_kind::broken) continue;
    ++broken;
    part p;
    REQUIRE(report_part(g.bytes, p));
    std::string json;
    CHECK_FALSE(gunzip(base64_decode(p.body), json));
    CHECK(g.report_id.empty());
  }
  CHECK(broken > 20);
}

TEST_CASE("the mail.ru shape uses CRLF and leaves its multipart unclosed") {
  gen_options opt;
  std::size_t seen = 0;
  for (std::size_t i = 0; i < 400 && seen < 5; ++i) {
    const auto g = generate(opt, i);
    if (g.kind != mail_kind::mailru) continue;
    ++seen;
    CHECK(g.bytes.find("\r\n") != std::string::npos);
    CHECK(g.bytes.find("\n\n") == std::string::npos);  // every line end is CRLF
    const std::size_t b = g.bytes.find("boundary=\"");
    REQUIRE(b != std::string::npos);
    const std::string boundary = g.bytes.substr(b + 10, g.bytes.find('"', b + 10) - (b + 10));
    CHECK(g.bytes.find("--" + boundary + "--") == std::string::npos);
    CHECK(g.bytes.ends_with("--" + boundary + "\r\n"));
    CHECK(g.json.find("policy-string") == std::string::npos);
    CHECK(g.json.find("sts-policy-fetch-error") != std::string::npos);
  }
  CHECK(seen == 5);
}

TEST_CASE("every mail has the headers of a mail and no line over 998 characters") {
  gen_options opt;
  opt.broken_fraction = 0.02;
  for (std::size_t i = 0; i < 1000; ++i) {
    const auto g = generate(opt, i);
    CAPTURE(i);
    const std::string head =
        g.bytes.substr(0, g.bytes.find(g.kind == mail_kind::mailru ? "\r\n\r\n" : "\n\n"));
    for (const char* h :
         {"\nFrom: ", "\nDate: ", "\nSubject: ", "\nMessage-I", "\nMIME-Version: 1.0"})
      CHECK_MESSAGE(head.find(h) != std::string::npos, h);
    std::size_t longest = 0, pos = 0;
    while (pos < g.bytes.size()) {
      std::size_t end = g.bytes.find('\n', pos);
      if (end == std::string::npos) end = g.bytes.size();
      longest = std::max(longest, end - pos);
      pos = end + 1;
    }
    CHECK(longest <= 998);
  }
}

TEST_CASE("tlsrpt-gen writes a Maildir and an mbox whose totals match --expect") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tlsrpt-gen-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string gen = TLSRPT_GEN_EXE;
  const auto expect = tlsrpt::test::run(gen + " --count 120 --seed 5 --expect");
  REQUIRE(expect.status == 0);
  const auto md =
      tlsrpt::test::run(gen + " --count 120 --seed 5 --maildir " + (dir / "Maildir").string());
  REQUIRE(md.status == 0);
  CHECK(md.out == expect.out);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "Maildir" / "new")) {
    (void)e;
    ++files;
  }
  CHECK(files == 120);
  CHECK(std::filesystem::is_empty(dir / "Maildir" / "tmp"));
  const auto mb =
      tlsrpt::test::run(gen + " --count 120 --seed 5 --mbox " + (dir / "mbox").string());
  REQUIRE(mb.status == 0);
  CHECK(mb.out == expect.out);
  const std::string mbox = tlsrpt::test::read_file(dir / "mbox");
  std::size_t separators = mbox.starts_with("From ") ? 1 : 0;
  for (std::size_t p = mbox.find("\n\nFrom "); p != std::string::npos;
       p = mbox.find("\n\nFrom ", p + 1))
    ++separators;
  CHECK(separators == 120);
  rapidjson::Document d;
  d.Parse(expect.out.c_str());
  REQUIRE(d.IsObject());
  CHECK(d["messages"].GetInt64() == 120);
  CHECK(d["reports"].GetInt64() + d["not_a_report"].GetInt64() == 120);
  std::filesystem::remove_all(dir);
}
