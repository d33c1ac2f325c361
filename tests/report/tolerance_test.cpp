// SPDX-License-Identifier: Apache-2.0
// What real senders get wrong is read with the right values and a warning naming the path.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "report_test_util.hpp"
#include "support/support.hpp"
#include "tlsrpt/report/report.hpp"

namespace tlsrpt::report::test {
namespace {

std::string sample(const std::string& name) {
  return tlsrpt::test::read_file(tlsrpt::test::data_dir() / "report" / name);
}

std::string rfc_sample() { return sample("rfc8460-example.json"); }

}  // namespace

TEST_CASE("Google's 2022 policy-string lines lose their trailing CR") {
  const report r = parse(sample("google-2022-trailing-cr.json"));
  REQUIRE(r.policies.size() == 1);
  const policy& p = r.policies[0];
  CHECK(p.policy_strings == std::vector<std::string>{"version: STSv1", "mode: enforce",
                                                     "mx: MX1.Example.com.", "max_age: 1209600"});
  CHECK(p.mode == sts_mode::enforce);
  CHECK(p.max_age == 1209600);
  CHECK(p.sts_mx_patterns == std::vector<std::string>{"mx1.example.com"});
  // Domains are lowercased and lose the root's dot; the report-id stays exactly as sent.
  CHECK(p.policy_domain == "example.com");
  CHECK(p.mx_hosts == std::vector<std::string>{"mx1.example.com"});
  CHECK(r.report_id == "2022-09-14T00:00:00Z_Example.COM.");
  CHECK(r.warnings == std::vector<std::string>{
                          "policies[0].policy.policy-string[0]: trailing line break removed",
                          "policies[0].policy.policy-string[1]: trailing line break removed",
                          "policies[0].policy.policy-string[2]: trailing line break removed",
                          "policies[0].policy.policy-string[3]: trailing line break removed"});
}

TEST_CASE("a date-time without a timezone is read as UTC with a warning") {
  const report r = parse(sample("microsoft-2023-no-offset.json"));
  CHECK(r.date_begin == utc(2023, 1, 10));
  CHECK(r.date_end == utc(2023, 1, 10, 23, 59, 59));
  CHECK(has_warning(r,
                    "date-range.start-datetime: no UTC offset in \"2023-01-10T00:00:00\", "
                    "read as UTC"));
  CHECK(has_warning(r,
                    "date-range.end-datetime: no UTC offset in \"2023-01-10T23:59:59\", "
                    "read as UTC"));
}

TEST_CASE("Microsoft's JSON-encoded TLSA policy-string is expanded into its records") {
  const report r = parse(sample("microsoft-2023-no-offset.json"));
  REQUIRE(r.policies.size() == 2);
  const policy& tlsa = r.policies[1];
  CHECK(tlsa.type == policy_type::tlsa);
  CHECK(tlsa.policy_strings ==
        std::vector<std::string>{
            "2 1 1 0254C2A1E4ABBE1F5A3C1C8D17B0B1A8E1A3FA67A1AE4C6EA69E8A5F6A0F3F4B",
            "2 1 1 0B9FA5A59EED715C26C1020C711B4F6EC42D58B0015E14337A39DAD301C5AFC3"});
  CHECK_FALSE(tlsa.mode.has_value());
  CHECK(has_warning(r,
                    "policies[1].policy.policy-string[0]: JSON-encoded array of 2 records "
                    "expanded (Microsoft)"));
  CHECK(r.policies[0].mode == sts_mode::testing);
  CHECK(r.policies[0].max_age == 604800);
}

TEST_CASE("a policy-string that only looks like a JSON array is kept as sent") {
  const std::string json =
      replace_nth(rfc_sample(), R"("mode: testing")", R"("[1, \"not records\"]", "[oops]")");
  const report r = parse(json);
  const auto& lines = r.policies.at(0).policy_strings;
  REQUIRE(lines.size() == 5);
  CHECK(lines[1] == "[1, \"not records\"]");
  CHECK(lines[2] == "[oops]");
  CHECK_FALSE(r.policies[0].mode.has_value());
}

TEST_CASE("old key names, a BOM, offsets, fractions and odd shapes are all read") {
  const report r = parse(sample("aliases-bom-offsets.json"));
  CHECK(r.organization_name == "Old Sender");
  CHECK(r.date_begin == utc(2024, 3, 1, 0, 0, 0, 250000));
  CHECK(r.date_end == utc(2024, 3, 4, 5, 29, 59, 999999));
  CHECK_FALSE(r.contact_info.has_value());  // ""
  REQUIRE(r.policies.size() == 1);
  const policy& p = r.policies[0];
  CHECK(p.type == policy_type::sts);
  CHECK(p.type_raw == "STS");
  CHECK(p.policy_strings == std::vector<std::string>{"mode: enforce"});
  CHECK(p.mode == sts_mode::enforce);
  CHECK_FALSE(p.max_age.has_value());
  CHECK(p.mx_hosts == std::vector<std::string>{"*.example.net"});
  CHECK(p.total_successful_session_count == 1);
  CHECK(p.total_failure_session_count == 4);
  REQUIRE(p.failure_details.size() == 2);
  const failure_detail& a = p.failure_details[0];
  CHECK(a.result == result_type::certificate_not_trusted);
  CHECK(a.sending_mta_ip == "192.0.2.7");
  CHECK(a.receiving_ip == "[2001:db8::25]");
  CHECK(a.receiving_mx_hostname == "mx.example.net");
  CHECK(a.receiving_mx_helo == "mx.example.net");
  CHECK(a.failed_session_count == 3);
  CHECK(a.additional_information == "https://sender.example/why");
  CHECK(a.failure_reason_code == "self-signed");
  const failure_detail& b = p.failure_details[1];
  CHECK(b.result == result_type::dane_required);
  CHECK_FALSE(b.sending_mta_ip.has_value());
  CHECK(b.failure_reason_code == "no TLSA");
  CHECK(r.warnings ==
        std::vector<std::string>{
            "UTF-8 byte order mark ignored",
            "policies[0].policy.policy-string: a string instead of an array, read as one line",
            "policies[0].policy.mx-host-pattern: read as \"mx-host\" (an old name)",
            "policies[0].policy.mx-host-pattern: \"mx:\" prefix removed",
            "policies[0].failure-details[0].receiving-ip: \"[2001:db8::25]\" is not an IP "
            "address, kept as text",
            "policies[0].failure-details[0].additional-info-uri: read as "
            "\"additional-information\" (an old name)",
            "policies[0].failure-details[0].failure-error-code: read as \"failure-reason-code\" "
            "(an old name)",
            "policies[0].failure-details[1].failure-error-code: ignored: \"failure-reason-code\" "
            "is present too"});
}

TEST_CASE("mx-host may be an array, a string, empty or absent") {
  const std::string s = rfc_sample();
  const std::string array = R"("mx-host": [
          "*.mail.company-y.example"
        ])";
  CHECK(parse(s).policies.at(0).mx_hosts == std::vector<std::string>{"*.mail.company-y.example"});
  CHECK(parse(replace_nth(s, array, R"("mx-host": "*.mail.company-y.example")"))
            .policies.at(0)
            .mx_hosts == std::vector<std::string>{"*.mail.company-y.example"});
  CHECK(parse(replace_nth(s, array, R"("mx-host": "")")).policies.at(0).mx_hosts.empty());
  CHECK(parse(replace_nth(s, array, R"("mx-host": null)")).policies.at(0).mx_hosts.empty());
  CHECK(parse(replace_nth(s, array, R"("x-mx-host": 1)")).policies.at(0).mx_hosts.empty());
  CHECK(parse(replace_nth(s, array, R"("mx-host": ["a.example", "B.example."])"))
            .policies.at(0)
            .mx_hosts == std::vector<std::string>{"a.example", "b.example"});
}

TEST_CASE("an unknown result-type or policy-type is kept verbatim with a warning") {
  const report r = parse(replace_nth(rfc_sample(), R"("result-type": "certificate-expired")",
                                     R"("result-type": "quantum-tunnel-collapse")"));
  const failure_detail& f = r.policies.at(0).failure_details.at(0);
  CHECK(f.result == result_type::other);
  CHECK(f.result_raw == "quantum-tunnel-collapse");
  CHECK(r.warnings ==
        std::vector<std::string>{"policies[0].failure-details[0].result-type: unregistered type "
                                 "\"quantum-tunnel-collapse\" kept as sent"});
}

TEST_CASE("missing counts, summary and result-type are read as 0 or empty with warnings") {
  std::string s = replace_nth(rfc_sample(), R"("failed-session-count": 100)",
                              R"("x-failed-session-count": 100)");
  s = replace_nth(s, R"("result-type": "starttls-not-supported",)", "");
  const report r = parse(s);
  const policy& p = r.policies.at(0);
  CHECK(p.failure_details.at(0).failed_session_count == 0);
  CHECK(p.failure_details.at(1).result == result_type::other);
  CHECK(p.failure_details.at(1).result_raw.empty());
  CHECK(r.warnings ==
        std::vector<std::string>{
            "policies[0].failure-details[0].failed-session-count: missing, read as 0",
            "policies[0].failure-details[1].result-type: missing or empty",
            "policies[0].failure-details: sum of failed-session-count 203 differs from "
            "summary.total-failure-session-count 303"});

  const report no_summary = parse(replace_nth(rfc_sample(), R"("summary")", R"("x-summary")"));
  CHECK(no_summary.policies.at(0).total_successful_session_count == 0);
  CHECK(no_summary.policies.at(0).total_failure_session_count == 0);
  CHECK(has_warning(no_summary, "policies[0].summary: missing, counts read as 0"));
}

TEST_CASE("a missing organization-name and empty policies are tolerated with warnings") {
  std::string s = replace_nth(rfc_sample(), R"("organization-name": "Company-X",)", "");
  const std::size_t from = s.find("\"policies\": [");
  const std::size_t to = s.rfind(']');
  s.replace(from, to - from + 1, "\"policies\": []");
  const report r = parse(s);
  CHECK(r.organization_name.empty());
  CHECK(r.policies.empty());
  CHECK(r.warnings ==
        std::vector<std::string>{"organization-name: missing or empty", "policies: empty"});
}

TEST_CASE("failure counts that sum past 64 bits are kept with a warning") {
  std::string s = replace_nth(rfc_sample(), R"("failed-session-count": 100)",
                              R"("failed-session-count": 9223372036854775807)");
  s = replace_nth(s, R"("failed-session-count": 200)",
                  R"("failed-session-count": 9223372036854775807)");
  const report r = parse(s);
  CHECK(r.policies.at(0).failure_details.at(1).failed_session_count == 9223372036854775807);
  CHECK(r.warnings == std::vector<std::string>{
                          "policies[0].failure-details: sum of failed-session-count exceeds 64 "
                          "bits"});
}

TEST_CASE("an unknown STS mode and a bad max_age are warned about and left unset") {
  std::string s = replace_nth(rfc_sample(), "mode: testing", "mode: strict");
  s = replace_nth(s, "max_age: 86400", "max_age: a day");
  const report r = parse(s);
  CHECK_FALSE(r.policies.at(0).mode.has_value());
  CHECK_FALSE(r.policies.at(0).max_age.has_value());
  CHECK(r.warnings ==
        std::vector<std::string>{
            "policies[0].policy.policy-string: unknown mode \"strict\"",
            "policies[0].policy.policy-string: max_age \"a day\" is not a number of seconds"});
}

TEST_CASE("policy-type and result-type tokens map to the enums and back") {
  CHECK(policy_type_from("sts") == policy_type::sts);
  CHECK(policy_type_from("tlsa") == policy_type::tlsa);
  CHECK(policy_type_from("no-policy-found") == policy_type::no_policy_found);
  CHECK(policy_type_from("dane") == policy_type::other);
  CHECK(to_string(policy_type::no_policy_found) == "no-policy-found");
  CHECK(to_string(policy_type::other) == "other");
  const std::vector<std::string> tokens = {"starttls-not-supported", "certificate-host-mismatch",
                                           "certificate-expired",    "certificate-not-trusted",
                                           "validation-failure",     "tlsa-invalid",
                                           "dnssec-invalid",         "dane-required",
                                           "sts-policy-fetch-error", "sts-policy-invalid",
                                           "sts-webpki-invalid"};
  for (const auto& t : tokens) {
    CAPTURE(t);
    const result_type r = result_type_from(t);
    CHECK(r != result_type::other);
    CHECK(to_string(r) == t);
  }
  CHECK(result_type_from("Testing") == result_type::other);
  CHECK(to_string(result_type::other) == "other");
  CHECK(to_string(sts_mode::testing) == "testing");
  CHECK(to_string(sts_mode::enforce) == "enforce");
  CHECK(to_string(sts_mode::none) == "none");
}

TEST_CASE("RFC 3339 date-times are read with offsets, fractions and leap seconds") {
  auto at = [](const char* text) {
    const auto t = parse_timestamp(text);
    REQUIRE_MESSAGE(t.has_value(), text);
    return *t;
  };
  CHECK(at("2016-04-01T00:00:00Z").at == utc(2016, 4, 1));
  CHECK(at("2016-04-01t00:00:00z").at == utc(2016, 4, 1));
  CHECK(at("2016-04-01 00:00:00Z").at == utc(2016, 4, 1));
  CHECK(at("2016-04-01T02:00:00+02:00").at == utc(2016, 4, 1));
  CHECK(at("2016-03-31T19:00:00-05:00").at == utc(2016, 4, 1));
  CHECK(at("2016-04-01T00:00:00.5Z").at == utc(2016, 4, 1, 0, 0, 0, 500000));
  CHECK(at("2016-04-01T00:00:00.123456789Z").at == utc(2016, 4, 1, 0, 0, 0, 123456));
  CHECK(at("2016-12-31T23:59:60Z").at == utc(2016, 12, 31, 23, 59, 59));
  CHECK(at("2024-02-29T00:00:00Z").at == utc(2024, 2, 29));
  CHECK(at("2023-01-10T00:00:00").has_offset == false);
  CHECK(at("2023-01-10T00:00:00Z").has_offset == true);
  for (const char* bad :
       {"", "2016-04-01", "2016-04-01T00:00Z", "2016-4-01T00:00:00Z", "2023-02-29T00:00:00Z",
        "2016-04-01T24:00:00Z", "2016-04-01T00:60:00Z", "2016-04-01T00:00:00.Z",
        "2016-04-01T00:00:00+25:00", "2016-04-01T00:00:00Zjunk", "1459468800"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_timestamp(bad).has_value());
  }
}

TEST_CASE("timestamps are formatted as RFC 3339 UTC with microseconds only when present") {
  CHECK(format_timestamp(utc(2016, 4, 1, 23, 59, 59)) == "2016-04-01T23:59:59Z");
  CHECK(format_timestamp(utc(2024, 3, 1, 0, 0, 0, 250000)) == "2024-03-01T00:00:00.250000Z");
  CHECK(format_timestamp(timestamp{}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("IP addresses are validated and normalized, bad ones stay text") {
  CHECK(is_valid_ip("192.0.2.1"));
  CHECK(is_valid_ip("2001:db8:abcd:0012::1"));
  CHECK_FALSE(is_valid_ip("x.x.x.x"));
  CHECK_FALSE(is_valid_ip("[2001:db8::1]"));
  CHECK_FALSE(is_valid_ip("192.0.2.1 "));
  CHECK_FALSE(is_valid_ip(std::string_view("192.0.2.1\0junk", 14)));
  CHECK_FALSE(is_valid_ip(""));
  CHECK(normalize_ip("2001:db8:abcd:0012::1") == "2001:db8:abcd:12::1");
  CHECK(normalize_ip("192.0.2.1") == "192.0.2.1");
  CHECK_FALSE(normalize_ip("256.0.0.1").has_value());
}

TEST_CASE("to_json keeps text that is not UTF-8 valid JSON") {
  report r;
  r.organization_name = "bad \xFF byte";
  // Built, not assigned from a literal: g++ 12 -O2 sees a false maybe-uninitialized there.
  r.report_id = std::string("id");
  const std::string json = to_json(r);
  CHECK(json.find("\"organization-name\":\"bad \xEF\xBF\xBD byte\"") != std::string::npos);
  const report again = parse(json);
  CHECK(again.organization_name == "bad \xEF\xBF\xBD byte");
}

}  // namespace tlsrpt::report::test
