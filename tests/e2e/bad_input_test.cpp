// SPDX-License-Identifier: Apache-2.0
// Bad input through the whole pipeline, by `ingest` and by `poll`: each sample gets its
// documented outcome in the ledger, the process survives it, and its memory stays bounded.
// The samples are made here (seeded, deterministic) from one small valid report, by mutation.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>

#include "e2e.hpp"
#include "support/support.hpp"

namespace fs = std::filesystem;
using namespace tlsrpt::e2e;

namespace {

// Loose sanity bounds, not benchmarks: the largest input is 30 MiB and the largest report is
// capped at 20 MiB decompressed. ASan's shadow memory and quarantine need far more.
constexpr long max_rss_kib = TLSRPT_E2E_SANITIZED ? 1024L * 1024L : 200L * 1024L;

std::string report_json(const std::string& id, const std::string& successful,
                        const std::string& org = "Bad Input Test") {
  return R"({"organization-name":")" + org +
         R"(","date-range":{"start-datetime":"2026-11-01T00:00:00Z",)"
         R"("end-datetime":"2026-11-01T23:59:59Z"},"contact-info":"tlsrpt@bad.example",)"
         R"("report-id":")" +
         id +
         R"(","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1",)"
         R"("mode: enforce","mx: mx.bad.example","max_age: 86400"],"policy-domain":)"
         R"("bad.example","mx-host":["mx.bad.example"]},"summary":)"
         R"({"total-successful-session-count":)" +
         successful + R"(,"total-failure-session-count":0}}]})";
}

// gzip of `prefix` followed by `fill_bytes` copies of `fill` (streamed: a bomb is never held).
std::string gzip(const std::string& prefix, std::size_t fill_bytes = 0, char fill = ' ') {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out;
  std::string chunk(1 << 20, fill);
  std::array<unsigned char, 1 << 16> buf{};
  auto feed = [&](const std::string& in, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    do {
      z.next_out = buf.data();
      z.avail_out = static_cast<uInt>(buf.size());
      const int rc = deflate(&z, flush);
      REQUIRE(rc != Z_STREAM_ERROR);
      out.append(reinterpret_cast<const char*>(buf.data()), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  };
  feed(prefix, Z_NO_FLUSH);
  for (std::size_t done = 0; done < fill_bytes; done += chunk.size()) {
    if (fill_bytes - done < chunk.size()) chunk.resize(fill_bytes - done);
    feed(chunk, Z_NO_FLUSH);
  }
  feed("", Z_FINISH);
  deflateEnd(&z);
  return out;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t line = 0;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const auto b = [&](std::size_t k) {
      return k < in.size() ? static_cast<unsigned>(static_cast<unsigned char>(in[k])) : 0u;
    };
    const unsigned v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? t[v & 63] : '=';
    if ((line += 4) >= 76) {
      out += '\n';
      line = 0;
    }
  }
  return out + "\n";
}

std::string headers(const std::string& id) {
  return "From: TLS Reports <tlsrpt-noreply@bad.example>\n"
         "To: tlsrpt@receiver.example\n"
         "Subject: Report Domain: bad.example Submitter: bad.example Report-ID: <" +
         id +
         ">\n"
         "Date: Sun, 01 Nov 2026 12:00:00 +0000\n"
         "Message-ID: <" +
         id +
         "@bad.example>\n"
         "TLS-Report-Domain: bad.example\n"
         "TLS-Report-Submitter: bad.example\n"
         "MIME-Version: 1.0\n";
}

// A Google-shaped report mail whose attachment body is `attachment` (already encoded).
std::string report_mail(const std::string& id, const std::string& attachment,
                        const std::string& content_type_params = "; boundary=\"b1\"") {
  return headers(id) + "Content-Type: multipart/report; report-type=\"tlsrpt\"" +
         content_type_params +
         "\n\n--b1\nContent-Type: text/plain\n\nThis is an aggregate TLS report.\n"
         "--b1\nContent-Type: application/tlsrpt+gzip; name=\"bad.example!1.json.gz\"\n"
         "Content-Transfer-Encoding: base64\n"
         "Content-Disposition: attachment; filename=\"bad.example!1.json.gz\"\n\n" +
         attachment + "--b1--\n";
}

struct sample {
  std::string file;
  std::string bytes;
  std::string outcome;  // in the ledger; "" = not recorded (refused before reading it whole)
  bool mail = false;    // also delivered to the mailbox for the `poll` run
};

std::vector<sample> samples() {
  std::vector<sample> v;
  const std::string good = report_json("bad-good", "10");
  const std::string gz = gzip(good);
  v.push_back({"truncated.json.gz", gz.substr(0, gz.size() / 2), "rejected"});
  // 512 MiB of spaces inside a string: 500 KiB compressed, far over max_report_size.
  const std::string bomb = gzip(R"({"organization-name":")", 512u << 20);
  v.push_back({"bomb.json.gz", bomb, "rejected"});
  v.push_back({"bomb.eml", report_mail("bad-bomb", base64(bomb)), "rejected", true});
  v.push_back({"invalid.json", good.substr(0, good.size() * 2 / 3), "rejected"});
  v.push_back({"deep.json",
               R"({"organization-name":"x","policies":)" + std::string(100000, '[') +
                   std::string(100000, ']') + "}",
               "rejected"});
  v.push_back(
      {"huge-number.json", report_json("bad-huge", "184467440737095516160000"), "rejected"});
  v.push_back({"negative.json", report_json("bad-negative", "-5"), "rejected"});
  v.push_back({"fraction.json", report_json("bad-fraction", "1.5"), "rejected"});
  v.push_back({"string-count.json", report_json("bad-string", "\"12\""), "rejected"});
  v.push_back({"bad-utf8.json", report_json("bad-utf8", "10", "Bad \xff\xfe Org"), "rejected"});
  v.push_back({"deep-mail.eml",
               report_mail("bad-deep-mail",
                           base64(gzip(std::string(100000, '[') + std::string(100000, ']')))),
               "rejected", true});
  v.push_back({"no-boundary.eml", report_mail("bad-noboundary", base64(gz), ""), "rejected", true});
  v.push_back({"broken-base64.eml",
               report_mail("bad-base64", "H4sIAAAA!!!!@@@@####" + base64(gz).substr(20, 40) + "\n"),
               "rejected", true});
  std::string endless = headers("bad-endless");
  for (int i = 0; i < 200000; ++i) endless += "X-Filler-" + std::to_string(i) + ": filler\n";
  // Not through poll: it blocks the mailbox (see the should_fail case below).
  v.push_back({"endless-headers.eml", endless + "\nbody\n", "not_a_report", false});
  v.push_back({"empty.eml", "", "not_a_report", true});
  v.push_back({"headers-only.eml", headers("bad-headers-only"), "not_a_report", true});
  std::mt19937 rng(8460);
  std::string random(64 * 1024, '\0');
  for (auto& c : random) c = static_cast<char>(rng() & 0xff);
  random[0] = 'x';  // not by chance the gzip magic
  v.push_back({"random.bin", random, "not_a_report", true});
  std::string huge = headers("bad-huge-mail") + "Content-Type: text/plain\n\n";
  const std::string line(76, 'a');
  while (huge.size() < (30u << 20)) huge += line + "\n";
  v.push_back({"huge.eml", huge, "", true});
  v.push_back({"dup-a.json", report_json("bad-dup", "7"), "stored"});
  v.push_back({"conflict-a.json", report_json("bad-conflict", "7"), "stored"});
  return v;
}

}  // namespace

TEST_CASE(
    "bad input of every kind gets its documented outcome, through ingest and through "
    "poll, and the process survives it in bounded memory") {
  TLSRPT_TEST_ONLY_ON(dovecot, "the checks read Dovecot's Maildir names (uid_names)");
  const services s = services::shared();
  database db(s);
  folder f(s, "t8", "badinput");
  scratch_dir tmp("badinput");
  const fs::path in = tmp.path() / "in";
  fs::create_directories(in);
  const auto all = samples();
  std::vector<std::string> args;
  for (const auto& x : all) {
    tlsrpt::test::write_file(in / x.file, x.bytes);
    args.push_back((in / x.file).string());
  }
  const fs::path cfg = write_config(tmp.path(), s, db, f, "badinput");

  // One `ingest` of everything: one process that must survive every sample.
  std::vector<std::string> ingest = {"-c", cfg.string(), "ingest"};
  ingest.insert(ingest.end(), args.begin(), args.end());
  const auto r = run_collector(ingest);
  INFO("ingest: " << r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 65);  // some were rejected
  CHECK(r.max_rss_kib < max_rss_kib);
  CHECK(r.err.find("larger than limits.max_message_size") != std::string::npos);
  for (const auto& x : all) {
    INFO("sample " << x.file);
    const std::string where =
        " FROM tlsrpt.messages WHERE source = 'file' AND folder = '" + (in / x.file).string() + "'";
    if (x.outcome.empty()) {
      CHECK(sql_int(db.url(), "SELECT count(*)" + where) == 0);
      continue;
    }
    CHECK(sql(db.url(), "SELECT outcome" + where) == x.outcome);
    if (x.outcome == "rejected") CHECK(sql(db.url(), "SELECT error" + where).size() > 10);
  }
  // Nothing from a rejected sample was counted.
  CHECK(sql(db.url(), "SELECT string_agg(report_id, ',' ORDER BY report_id) FROM tlsrpt.reports") ==
        "bad-conflict,bad-dup");

  // The same report again (gzipped, so a different file), and the same identity with other
  // numbers: a duplicate and a conflict; the first version stays counted.
  tlsrpt::test::write_file(in / "dup-b.json.gz", gzip(report_json("bad-dup", "7")));
  tlsrpt::test::write_file(in / "conflict-b.json", report_json("bad-conflict", "9000"));
  const auto again = run_collector({"-c", cfg.string(), "ingest", (in / "dup-b.json.gz").string(),
                                    (in / "conflict-b.json").string()});
  INFO("second ingest: " << again.err);
  CHECK(again.exit_code == 0);
  CHECK(sql(db.url(), "SELECT outcome FROM tlsrpt.messages WHERE folder LIKE '%dup-b.json.gz'") ==
        "duplicate");
  CHECK(sql(db.url(), "SELECT outcome FROM tlsrpt.messages WHERE folder LIKE '%conflict-b.json'") ==
        "conflict");
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 2);
  CHECK(sql_int(db.url(), "SELECT sum(successful_sessions) FROM tlsrpt.reports") == 14);
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.conflicts") == 1);

  // The mail-shaped samples through Dovecot and `poll`: same outcomes; the 30 MiB one is
  // skipped unread; broken ones get the failed keyword, ordinary mail nothing.
  std::map<std::string, const sample*> by_name;
  for (const auto& x : all) {
    if (!x.mail) continue;
    std::string base = x.file;
    for (auto& c : base)
      if (c == '.') c = '_';
    f.deliver(base, x.bytes);
    by_name[base] = &x;
  }
  const auto p = run_collector({"-c", cfg.string(), "poll"});
  INFO("poll: " << p.err);
  CHECK(p.signal == 0);
  CHECK(p.exit_code == 0);
  CHECK(p.max_rss_kib < max_rss_kib);
  const auto failed = f.search("KEYWORD $TLSRPTFailed");
  const auto seen = f.search("SEEN");
  for (const auto& [uid, base] : f.uid_names()) {
    const sample& x = *by_name.at(base);
    INFO("UID " << uid << " = " << x.file);
    const std::string outcome = x.outcome.empty() ? "skipped" : x.outcome;
    CHECK(sql(db.url(), "SELECT outcome FROM tlsrpt.messages WHERE source = 'badinput' AND uid = " +
                            std::to_string(uid)) == outcome);
    const bool is_failed = std::find(failed.begin(), failed.end(), uid) != failed.end();
    CHECK(is_failed == (outcome == "rejected" || outcome == "skipped"));
    if (outcome == "not_a_report" || outcome == "skipped")
      CHECK(std::find(seen.begin(), seen.end(), uid) == seen.end());
  }
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 2);
}

// libcurl 7.88 counts response lines against its header cap per connection: a message with a
// huge header block fetched after others on one connection failed, and every pass stopped at
// its UID. The client now retries it on a fresh connection, and the collector counts an
// attempt for a fetch that breaks the connection, so such a message can never stall a mailbox.
TEST_CASE("a message with 5 MiB of header lines does not block the mailbox") {
  TLSRPT_TEST_ONLY_ON(dovecot, "an empty message and 5 MiB of headers go in through the Maildir");
  const services s = services::shared();
  database db(s);
  folder f(s, "t8", "endless");
  scratch_dir tmp("endless");
  std::string endless = headers("bad-endless");
  for (int i = 0; i < 200000; ++i) endless += "X-Filler-" + std::to_string(i) + ": filler\n";
  // As in the bad-input run: it fails after other messages on the same connection (alone,
  // it is fetched fine).
  f.deliver("a-bomb",
            report_mail("bad-bomb", base64(gzip(R"({"organization-name":")", 512u << 20))));
  f.deliver("b-empty", "");
  f.deliver("c-endless", endless + "\nbody\n");
  f.deliver("d-report",
            report_mail("bad-after-endless", base64(gzip(report_json("bad-after", "3")))));
  const fs::path cfg = write_config(tmp.path(), s, db, f, "endless");
  for (int pass = 0; pass < 2; ++pass) run_collector({"-c", cfg.string(), "poll"});
  CHECK(sql_int(db.url(), "SELECT count(*) FROM tlsrpt.reports") == 1);
  CHECK(sql(db.url(), "SELECT string_agg(outcome, ',' ORDER BY uid) FROM tlsrpt.messages") ==
        "rejected,not_a_report,not_a_report,stored");
}
