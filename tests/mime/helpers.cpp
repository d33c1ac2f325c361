// SPDX-License-Identifier: Apache-2.0
#include "helpers.hpp"

#include <zlib.h>

#include <doctest/doctest.h>

#include <stdexcept>

#include "tlsrpt/mime/detail.hpp"
#include "tlsrpt/mime/extract.hpp"

namespace tlsrpt::test::mime {

std::string gzip(std::string_view data, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

std::string base64(std::string_view data, std::size_t line) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string flat;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const auto b = [&](std::size_t k) {
      return k < data.size() ? static_cast<unsigned>(static_cast<unsigned char>(data[k])) : 0u;
    };
    const unsigned v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    flat += alphabet[(v >> 18) & 63];
    flat += alphabet[(v >> 12) & 63];
    flat += i + 1 < data.size() ? alphabet[(v >> 6) & 63] : '=';
    flat += i + 2 < data.size() ? alphabet[v & 63] : '=';
  }
  std::string out;
  for (std::size_t i = 0; i < flat.size(); i += line) out += flat.substr(i, line) + "\n";
  return out;
}

std::string report_mail(std::string_view content_type, std::string_view filename,
                        std::string_view cte, std::string_view body) {
  std::string m =
      "From: Reporter <TLSRPT@Reporter.Example>\n"
      "To: tlsrpt@example.com\n"
      "Subject: Report Domain: example.com Submitter: reporter.example\n"
      "Date: Wed, 04 Nov 2026 10:00:00 +0100\n"
      "Message-ID: <m1@reporter.example>\n"
      "TLS-Report-Domain: example.com\n"
      "TLS-Report-Submitter: reporter.example\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"b\"\n\n"
      "--b\nContent-Type: text/plain\n\nA TLS report.\n--b\n";
  m += "Content-Type: " + std::string(content_type) + "\n";
  if (!filename.empty()) {
    m += "Content-Disposition: attachment; filename=\"" + std::string(filename) + "\"\n";
  }
  if (!cte.empty()) m += "Content-Transfer-Encoding: " + std::string(cte) + "\n";
  // append() rather than operator+: GCC 12 at -O3 warns falsely (-Wrestrict) on the latter.
  m.append("\n").append(body).append("\n--b--\n");
  return m;
}

std::string sample_json(std::string_view report_id) {
  return R"({"organization-name":"Reporter","date-range":{"start-datetime":"2026-11-03T00:00:00Z",)"
         R"("end-datetime":"2026-11-03T23:59:59Z"},"contact-info":"tls@reporter.example",)"
         R"("report-id":")" +
         std::string(report_id) +
         R"(","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1",)"
         R"("mode: enforce","mx: mx1.example.com","max_age: 86400"],"policy-domain":"example.com",)"
         R"("mx-host":["mx1.example.com"]},"summary":{"total-successful-session-count":5,)"
         R"("total-failure-session-count":0}}]})";
}

namespace {

void check_same(const tlsrpt::mime::extraction& a, const tlsrpt::mime::extraction& b) {
  CHECK(static_cast<int>(a.kind) == static_cast<int>(b.kind));
  CHECK(a.reason == b.reason);
  CHECK(a.env.message_id == b.env.message_id);
  CHECK(a.env.from == b.env.from);
  CHECK(a.env.date == b.env.date);
  CHECK(a.env.subject == b.env.subject);
  CHECK(a.env.tls_report_domain == b.env.tls_report_domain);
  CHECK(a.env.tls_report_submitter == b.env.tls_report_submitter);
  CHECK(a.env.dkim_signature == b.env.dkim_signature);
  CHECK(a.env.authentication_results == b.env.authentication_results);
  REQUIRE(a.reports.size() == b.reports.size());
  for (std::size_t i = 0; i < a.reports.size(); ++i) {
    CHECK(a.reports[i].json == b.reports[i].json);
    CHECK(a.reports[i].content_type == b.reports[i].content_type);
    CHECK(a.reports[i].filename == b.reports[i].filename);
    CHECK(a.reports[i].transfer_encoding == b.reports[i].transfer_encoding);
    CHECK(a.reports[i].compression == b.reports[i].compression);
  }
}

}  // namespace

tlsrpt::mime::extraction extract(std::string_view message, const tlsrpt::mime::limits& lim) {
  namespace d = tlsrpt::mime::detail;
  auto x = tlsrpt::mime::extract(message, lim);
  const auto slow = d::extract_with(message, lim, d::walker_choice::gmime_only);
  REQUIRE(slow.has_value());
  check_same(x, *slow);
  return x;
}

tlsrpt::mime::extraction extract(std::string_view message) { return extract(message, {}); }

bool fast_path_taken(std::string_view message) {
  namespace d = tlsrpt::mime::detail;
  return d::extract_with(message, {}, d::walker_choice::fast_only).has_value();
}

}  // namespace tlsrpt::test::mime
