// SPDX-License-Identifier: Apache-2.0
// Every JSON report of ../shared/corpus parses, with the values that matter checked per file.
#include <doctest/doctest.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "report_test_util.hpp"
#include "support/support.hpp"
#include "tlsrpt/report/report.hpp"

namespace tlsrpt::report::test {

std::string gunzip(const std::string& gz) {
  z_stream zs{};
  // 16 + MAX_WBITS: a gzip header, not a zlib one.
  REQUIRE(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK);
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buf[16384];
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  REQUIRE(rc == Z_STREAM_END);
  return out;
}

namespace {

namespace fs = std::filesystem;
using opt = std::optional<std::string>;

struct detail_exp {
  result_type result;
  std::string raw;
  std::int64_t count;
  opt sending_ip;
  opt receiving_ip;
  opt mx_hostname;
};

struct policy_exp {
  policy_type type;
  std::string raw;
  opt domain;
  std::int64_t ok;
  std::int64_t failed;
  std::vector<std::string> mx_hosts;
  std::size_t strings;  // number of policy-string lines after cleaning
  std::optional<sts_mode> mode;
  std::optional<std::int64_t> max_age;
  std::vector<std::string> mx_patterns;
  std::vector<detail_exp> details;
};

struct report_exp {
  std::string org;
  std::string id;
  timestamp begin;
  timestamp end;
  opt contact;
  std::vector<policy_exp> policies;
  std::vector<std::string> warnings;
};

const std::string company_y = "company-y.example";
const std::string rfc_id = "5065427c-23d3-47ca-b6e0-946ea0e8c4be";
const std::string rfc_contact = "sts-reporting@company-x.example";

// RFC 8460 Appendix B, as several projects carry it (additional-information differs).
std::vector<detail_exp> rfc_details() {
  return {
      {result_type::certificate_expired, "certificate-expired", 100, "2001:db8:abcd:0012::1",
       std::nullopt, "mx1.mail.company-y.example"},
      {result_type::starttls_not_supported, "starttls-not-supported", 200, "2001:db8:abcd:0013::1",
       "203.0.113.56", "mx2.mail.company-y.example"},
      {result_type::validation_failure, "validation-failure", 3, "198.51.100.62", "203.0.113.58",
       "mx-backup.mail.company-y.example"},
  };
}

policy_exp rfc_policy(const std::string& domain) {
  return {policy_type::sts,
          "sts",
          domain,
          5326,
          303,
          {"*.mail.company-y.example"},
          4,
          sts_mode::testing,
          86400,
          {"*.mail.company-y.example"},
          rfc_details()};
}

report_exp rfc_report() {
  return {"Company-X",
          rfc_id,
          utc(2016, 4, 1),
          utc(2016, 4, 1, 23, 59, 59),
          rfc_contact,
          {rfc_policy(company_y)},
          {}};
}

policy_exp no_policy(const std::string& domain, std::int64_t ok, std::int64_t failed = 0) {
  return {policy_type::no_policy_found,
          "no-policy-found",
          domain,
          ok,
          failed,
          {},
          0,
          std::nullopt,
          std::nullopt,
          {},
          {}};
}

const std::map<std::string, report_exp>& expectations() {
  static const std::map<std::string, report_exp> all = [] {
    std::map<std::string, report_exp> m;
    const opt google = "smtp-tls-reporting@google.com";
    const opt microsoft = "tlsrpt-noreply@microsoft.com";
    const opt mailru = "tls_support@corp.mail.ru";
    m["Neztore__tls-rpt-monitor/microsoft-report.json"] = {
        "Microsoft Corporation",
        "133988091029006454+josh.scot",
        utc(2025, 8, 3),
        utc(2025, 8, 3, 23, 59, 59),
        microsoft,
        {{policy_type::sts,
          "sts",
          "josh.scot",
          2,
          2,
          {},
          5,
          sts_mode::enforce,
          86401,
          {"mail.protonmail.ch", "mailsec.protonmail.ch"},
          {{result_type::other, "Testing", 3, "x.x.x.x", std::nullopt, "testing.josh.scot"}}}},
        {"policies[0].failure-details[0].result-type: unregistered type \"Testing\" kept as sent",
         "policies[0].failure-details[0].sending-mta-ip: \"x.x.x.x\" is not an IP address, "
         "kept as text",
         "policies[0].failure-details[0].additional-info-uri: read as \"additional-information\" "
         "(an old name)",
         "policies[0].failure-details: sum of failed-session-count 3 differs from "
         "summary.total-failure-session-count 2"}};
    m["Neztore__tls-rpt-monitor/microsoft-report.json.gz"] = {
        "Microsoft Corporation",
        "133988091029006454+josh.scot",
        utc(2025, 8, 3),
        utc(2025, 8, 3, 23, 59, 59),
        microsoft,
        {{policy_type::sts,
          "sts",
          "josh.scot",
          2,
          0,
          {},
          5,
          sts_mode::enforce,
          86401,
          {"mail.protonmail.ch", "mailsec.protonmail.ch"},
          {}}},
        {}};
    m["cry-inc__dmarc-report-viewer/google.a950338.json"] = {"Google Inc.",
                                                             "2025-04-12T00:00:00Z_domain.de",
                                                             utc(2025, 4, 12),
                                                             utc(2025, 4, 12, 23, 59, 59),
                                                             google,
                                                             {no_policy("domain.de", 2)},
                                                             {}};
    m["cry-inc__dmarc-report-viewer/google.json"] = {"Google Inc.",
                                                     "2025-05-22T00:00:00Z_foo-bar.io",
                                                     utc(2025, 5, 22),
                                                     utc(2025, 5, 22, 23, 59, 59),
                                                     google,
                                                     {{policy_type::sts,
                                                       "sts",
                                                       "foo-bar.io",
                                                       1,
                                                       0,
                                                       {"*.foo-bar.io"},
                                                       4,
                                                       sts_mode::enforce,
                                                       2592000,
                                                       {"*.foo-bar.io"},
                                                       {}}},
                                                     {}};
    m["cry-inc__dmarc-report-viewer/microsoft.json"] = {
        "Microsoft Corporation",
        "133925885310113267+random.net",
        utc(2025, 5, 23),
        utc(2025, 5, 23, 23, 59, 59),
        microsoft,
        {{policy_type::sts,
          "sts",
          "random.net",
          2,
          0,
          {},
          4,
          sts_mode::enforce,
          2592000,
          {"*.random.net"},
          {}},
         {policy_type::tlsa,
          "tlsa",
          "random.net",
          2,
          0,
          {},
          2,
          std::nullopt,
          std::nullopt,
          {},
          {}}},
        {"policies[1].policy.policy-string[0]: JSON-encoded array of 2 records expanded "
         "(Microsoft)"}};
    m["cry-inc__dmarc-report-viewer/no-contact.json"] = {
        "server.com",
        "123_456",
        utc(2026, 1, 11),
        utc(2026, 1, 12),
        std::nullopt,
        {{policy_type::sts,
          "sts",
          "server.com",
          1,
          0,
          {"mx.server.com"},
          4,
          sts_mode::enforce,
          86400,
          {"mx.server.com"},
          {}}},
        {"policies[0].policy.mx-host[0]: \"mx:\" prefix removed"}};
    m["cry-inc__dmarc-report-viewer/no-policy.json"] = {"Google Inc.",
                                                        "2025-03-27T00:00:00Z_foo-bar.io",
                                                        utc(2025, 3, 27),
                                                        utc(2025, 3, 27, 23, 59, 59),
                                                        google,
                                                        {no_policy("foo-bar.io", 1)},
                                                        {}};
    m["cry-inc__dmarc-report-viewer/no_ip_and_mx.json"] = {
        "Microsoft Corporation",
        "1234567890+",
        utc(2025, 6, 14),
        utc(2025, 6, 14, 23, 59, 59),
        microsoft,
        {{policy_type::sts,
          "sts",
          "xxxxxxxx.xx",
          0,
          3,
          {},
          0,
          std::nullopt,
          std::nullopt,
          {},
          {{result_type::sts_policy_fetch_error, "sts-policy-fetch-error", 3, std::nullopt,
            std::nullopt, std::nullopt}}}},
        {}};
    m["cry-inc__dmarc-report-viewer/rfc-example.json"] = rfc_report();
    m["domainaware__parsedmarc/empty_failure_detail_fields.json"] = {
        "Reporter Example",
        "2024-06-01T00:00:00Z_example.com",
        utc(2024, 6, 1),
        utc(2024, 6, 1, 23, 59, 59),
        "smtp-tls-reporting@reporter.example",
        {{policy_type::sts,
          "sts",
          "example.com",
          0,
          1,
          {},
          4,
          sts_mode::enforce,
          86400,
          {"example.com"},
          {{result_type::sts_policy_fetch_error, "sts-policy-fetch-error", 1, std::nullopt,
            std::nullopt, std::nullopt}}}},
        {}};
    m["domainaware__parsedmarc/mail.ru.json"] = {
        "Mail.ru",
        "b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru",
        utc(2024, 2, 22),
        utc(2024, 2, 23),
        mailru,
        {{policy_type::sts,
          "sts",
          "example.com",
          0,
          1,
          {},
          0,
          std::nullopt,
          std::nullopt,
          {},
          {{result_type::sts_policy_fetch_error, "sts-policy-fetch-error", 1, std::nullopt,
            std::nullopt, std::nullopt},
           {result_type::sts_policy_fetch_error, "sts-policy-fetch-error", 1, std::nullopt,
            std::nullopt, std::nullopt}}}},
        {"policies[0].failure-details: sum of failed-session-count 2 differs from "
         "summary.total-failure-session-count 1"}};
    m["domainaware__parsedmarc/rfc8460.json"] = rfc_report();
    m["domainaware__parsedmarc/smtp_tls.json"] = {
        "Example Inc.",
        "2024-01-09T00:00:00Z_example.com",
        utc(2024, 1, 9),
        utc(2024, 1, 9, 23, 59, 59),
        "smtp-tls-reporting@example.com",
        {{policy_type::sts,
          "sts",
          "example.com",
          0,
          3,
          {},
          4,
          sts_mode::testing,
          86400,
          {"example.com"},
          {{result_type::validation_failure, "validation-failure", 2, "209.85.222.201",
            "173.212.201.41", "example.com"},
           {result_type::validation_failure, "validation-failure", 1, "209.85.208.176",
            "173.212.201.41", "example.com"}}}},
        {}};
    m["kravietz__tlsrpt-rs/mail.ru.json"] = {
        "Mail.ru",
        "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru",
        utc(2023, 1, 25),
        utc(2023, 1, 26),
        mailru,
        {{policy_type::sts,
          "sts",
          "krvtz.net",
          0,
          1,
          {},
          0,
          std::nullopt,
          std::nullopt,
          {},
          {{result_type::sts_policy_fetch_error, "sts-policy-fetch-error", 1, std::nullopt,
            std::nullopt, std::nullopt}}}},
        {}};
    m["kravietz__tlsrpt-rs/rfc8460.json"] = rfc_report();
    // A parser's output, not a sender's report; still a valid report ("mx-host": "").
    m["marcbradshaw__mail-tls-rpt/expected.json"] = {"Google Inc.",
                                                     "2020-03-02T00:00:00Z_fastmaildmarc.com",
                                                     utc(2020, 3, 2),
                                                     utc(2020, 3, 2, 23, 59, 59),
                                                     google,
                                                     {no_policy("fastmaildmarc.com", 343)},
                                                     {}};
    m["marcbradshaw__mail-tls-rpt/report.json"] = m["marcbradshaw__mail-tls-rpt/expected.json"];
    m["marcbradshaw__mail-tls-rpt/report.json.gz"] = m["marcbradshaw__mail-tls-rpt/report.json"];
    m["robalexdev__tlsrpt-be/report-2.json"] = {"Example LLC.",
                                                "2025-08-04T00:00:00Z_example.org",
                                                utc(2025, 8, 4),
                                                utc(2025, 8, 4, 23, 59, 59),
                                                "smtp-tls-reporting@example-llc.com",
                                                {no_policy("example.org", 13)},
                                                {}};
    m["robalexdev__tlsrpt-be/report.json"] = {"Example Inc.",
                                              "report-id-from-report.json",
                                              utc(2025, 8, 4),
                                              utc(2025, 8, 4, 23, 59, 59),
                                              "smtp-tls-reporting@example.com",
                                              {no_policy("xn--gpher-jua.test", 99, 102)},
                                              {}};
    m["robalexdev__tlsrpt-be/testing.json"] = {"Company-X",
                                               "report-id-of-report-over-email-1234",
                                               utc(2016, 4, 1),
                                               utc(2016, 4, 1, 23, 59, 59),
                                               rfc_contact,
                                               {rfc_policy("xn--gpher-jua.test")},
                                               {}};
    m["stalwartlabs__mail-auth/rpt01.json"] = rfc_report();
    m["stalwartlabs__mail-auth/rpt02.json"] = {
        "Google Inc.",
        "2020-01-01T00:00:00Z_example.com",
        utc(2020, 1, 1),
        utc(2020, 1, 7, 23, 59, 59),
        google,
        {{policy_type::sts,
          "sts",
          "example.com",
          23,
          1,
          {},
          4,
          sts_mode::enforce,
          604800,
          {"demo.example.com"},
          {{result_type::certificate_host_mismatch, "certificate-host-mismatch", 1,
            "123.123.123.123", "234.234.234.234", "demo.example.com"}}}},
        {}};
    m["stalwartlabs__mail-auth/rpt03.json"] = {
        "Google Inc.",
        "2019-04-14T00:00:00Z_example.org",
        utc(2019, 4, 14),
        utc(2019, 4, 14, 23, 59, 59),
        google,
        {{policy_type::no_policy_found,
          "no-policy-found",
          std::nullopt,
          1,
          0,
          {},
          0,
          std::nullopt,
          std::nullopt,
          {},
          {}},
         {policy_type::other,
          "invalid-policy-type",
          std::nullopt,
          1,
          0,
          {},
          0,
          std::nullopt,
          std::nullopt,
          {},
          {}}},
        {"policies[0].policy.policy-domain: missing or empty",
         "policies[0].summary.total-failure-session-count: missing, read as 0",
         "policies[1].policy.policy-type: unregistered type \"invalid-policy-type\" kept as sent",
         "policies[1].policy.policy-domain: missing or empty",
         "policies[1].summary.total-failure-session-count: missing, read as 0"}};
    return m;
  }();
  return all;
}

std::string load(const std::string& rel) {
  const fs::path p = tlsrpt::test::corpus_dir() / rel;
  std::string bytes = tlsrpt::test::read_file(p);
  if (p.extension() == ".gz") bytes = gunzip(bytes);
  return bytes;
}

void check(const report& r, const report_exp& e) {
  CHECK(r.organization_name == e.org);
  CHECK(r.report_id == e.id);
  CHECK(format_timestamp(r.date_begin) == format_timestamp(e.begin));
  CHECK(format_timestamp(r.date_end) == format_timestamp(e.end));
  CHECK(r.contact_info == e.contact);
  CHECK(r.warnings == e.warnings);
  REQUIRE(r.policies.size() == e.policies.size());
  for (std::size_t i = 0; i < e.policies.size(); ++i) {
    CAPTURE(i);
    const policy& p = r.policies[i];
    const policy_exp& pe = e.policies[i];
    CHECK(p.type == pe.type);
    CHECK(p.type_raw == pe.raw);
    CHECK(p.policy_domain == pe.domain);
    CHECK(p.total_successful_session_count == pe.ok);
    CHECK(p.total_failure_session_count == pe.failed);
    CHECK(p.mx_hosts == pe.mx_hosts);
    CHECK(p.policy_strings.size() == pe.strings);
    CHECK(p.mode == pe.mode);
    CHECK(p.max_age == pe.max_age);
    CHECK(p.sts_mx_patterns == pe.mx_patterns);
    REQUIRE(p.failure_details.size() == pe.details.size());
    for (std::size_t k = 0; k < pe.details.size(); ++k) {
      CAPTURE(k);
      const failure_detail& f = p.failure_details[k];
      const detail_exp& fe = pe.details[k];
      CHECK(f.result == fe.result);
      CHECK(f.result_raw == fe.raw);
      CHECK(f.failed_session_count == fe.count);
      CHECK(f.sending_mta_ip == fe.sending_ip);
      CHECK(f.receiving_ip == fe.receiving_ip);
      CHECK(f.receiving_mx_hostname == fe.mx_hostname);
    }
  }
}

// The values that survive a trip through to_json: everything but the warnings, which belong
// to the original text.
void check_same_values(const report& a, const report& b) {
  CHECK(a.organization_name == b.organization_name);
  CHECK(a.report_id == b.report_id);
  CHECK(a.date_begin == b.date_begin);
  CHECK(a.date_end == b.date_end);
  CHECK(a.contact_info == b.contact_info);
  REQUIRE(a.policies.size() == b.policies.size());
  for (std::size_t i = 0; i < a.policies.size(); ++i) {
    const policy& p = a.policies[i];
    const policy& q = b.policies[i];
    CHECK(p.type == q.type);
    CHECK(p.type_raw == q.type_raw);
    CHECK(p.policy_strings == q.policy_strings);
    CHECK(p.policy_domain == q.policy_domain);
    CHECK(p.mx_hosts == q.mx_hosts);
    CHECK(p.total_successful_session_count == q.total_successful_session_count);
    CHECK(p.total_failure_session_count == q.total_failure_session_count);
    CHECK(p.mode == q.mode);
    CHECK(p.max_age == q.max_age);
    CHECK(p.sts_mx_patterns == q.sts_mx_patterns);
    REQUIRE(p.failure_details.size() == q.failure_details.size());
    for (std::size_t k = 0; k < p.failure_details.size(); ++k) {
      const failure_detail& f = p.failure_details[k];
      const failure_detail& g = q.failure_details[k];
      CHECK(f.result == g.result);
      CHECK(f.result_raw == g.result_raw);
      CHECK(f.sending_mta_ip == g.sending_mta_ip);
      CHECK(f.receiving_mx_hostname == g.receiving_mx_hostname);
      CHECK(f.receiving_mx_helo == g.receiving_mx_helo);
      CHECK(f.receiving_ip == g.receiving_ip);
      CHECK(f.failed_session_count == g.failed_session_count);
      CHECK(f.additional_information == g.additional_information);
      CHECK(f.failure_reason_code == g.failure_reason_code);
    }
  }
}

}  // namespace

// Every case here reads the shared corpus: ctest label `corpus` (tests/CMakeLists.txt).
TEST_SUITE_BEGIN("corpus");

TEST_CASE("every JSON report of the corpus has its expected values checked here") {
  const fs::path root = tlsrpt::test::corpus_dir();
  std::set<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file()) continue;
    if (name.ends_with(".json") || name.ends_with(".json.gz")) {
      found.insert(fs::relative(entry.path(), root).generic_string());
    }
  }
  std::set<std::string> expected;
  for (const auto& [name, e] : expectations()) expected.insert(name);
  CHECK(found == expected);
}

TEST_CASE("each JSON report of the corpus parses with its sender's values") {
  for (const auto& [name, e] : expectations()) {
    SUBCASE(name.c_str()) {
      const report r = parse(load(name));
      check(r, e);
    }
  }
}

TEST_CASE("the normalized JSON of each corpus report parses back to the same values") {
  for (const auto& [name, e] : expectations()) {
    SUBCASE(name.c_str()) {
      const report r = parse(load(name));
      const std::string json = to_json(r);
      const report again = parse(json);
      check_same_values(r, again);
      // Normalizing is idempotent: the second rendering equals the first, warnings aside.
      report r_quiet = r;
      report again_quiet = again;
      r_quiet.warnings.clear();
      again_quiet.warnings.clear();
      CHECK(to_json(again_quiet) == to_json(r_quiet));
    }
  }
}

TEST_CASE("the RFC example renders in RFC 8460's shape with derived facts and warnings") {
  const report r = parse(load("domainaware__parsedmarc/rfc8460.json"));
  const std::string json = to_json(r);
  // mx-host was a string in this sample (erratum 6241 shape); the output has the array.
  CHECK(json.find(R"("mx-host":["*.mail.company-y.example"])") != std::string::npos);
  CHECK(json.find(R"("date-range":{"start-datetime":"2016-04-01T00:00:00Z",)"
                  R"("end-datetime":"2016-04-01T23:59:59Z"})") != std::string::npos);
  CHECK(json.find(R"("x-tlsrpt-collector":{"sts-mode":"testing","max-age":86400,)"
                  R"("mx-patterns":["*.mail.company-y.example"]})") != std::string::npos);
  CHECK(json.find(R"("total-successful-session-count":5326)") != std::string::npos);
  CHECK(json.ends_with(R"("x-tlsrpt-collector":{"warnings":[]}})"));
}

TEST_SUITE_END();

}  // namespace tlsrpt::report::test
