// SPDX-License-Identifier: Apache-2.0
// Negative cases made by mutating good samples: each names the exact JSON path and cause.
#include <doctest/doctest.h>

#include <string>

#include "report_test_util.hpp"
#include "support/support.hpp"
#include "tlsrpt/report/report.hpp"

namespace tlsrpt::report::test {
namespace {

// The example of RFC 8460 §4.8, in our own formatting (offsets below depend on it).
std::string rfc_sample() {
  return tlsrpt::test::read_file(tlsrpt::test::data_dir() / "report" / "rfc8460-example.json");
}

// Two policies, so paths with policies[1] can be checked.
std::string two_policies() {
  return tlsrpt::test::read_file(tlsrpt::test::data_dir() / "report" / "two-policies.json");
}

parse_error rejection(const std::string& json, const parse_limits& limits = {}) {
  try {
    (void)parse(json, limits);
  } catch (const parse_error& e) {
    return e;
  }
  FAIL("the report was accepted");
  return parse_error("", "");
}

void check_rejected(const std::string& json, const std::string& path, const std::string& cause) {
  const parse_error e = rejection(json);
  CHECK(e.path() == path);
  CHECK(e.cause() == cause);
  CHECK(std::string(e.what()) ==
        (path.empty() ? "report: " + cause : "report: " + path + ": " + cause));
}

// Dropping a field: its key is renamed, so the rest of the text stays valid JSON.
std::string drop(const std::string& json, const std::string& key, std::size_t n = 0) {
  return replace_nth(json, "\"" + key + "\"", "\"x-dropped-" + key + "\"", n);
}

}  // namespace

TEST_CASE("the issue's example error names the path and quotes the string it got") {
  const std::string json = replace_nth(two_policies(), "\"total-failure-session-count\": 0",
                                       "\"total-failure-session-count\": \"12\"", 1);
  const parse_error e = rejection(json);
  CHECK(std::string(e.what()) ==
        "report: policies[1].summary.total-failure-session-count: expected a non-negative "
        "integer, got \"12\"");
}

TEST_CASE("a report without a required field is rejected at that field") {
  const std::string s = rfc_sample();
  check_rejected(drop(s, "report-id"), "report-id", "missing");
  check_rejected(drop(s, "date-range"), "date-range", "missing");
  check_rejected(drop(s, "start-datetime"), "date-range.start-datetime", "missing");
  check_rejected(drop(s, "end-datetime"), "date-range.end-datetime", "missing");
  check_rejected(drop(s, "policies"), "policies", "missing");
  check_rejected(drop(s, "policy"), "policies[0].policy", "missing");
  check_rejected(drop(s, "policy-type"), "policies[0].policy.policy-type", "missing");
  check_rejected(drop(two_policies(), "policy-type", 1), "policies[1].policy.policy-type",
                 "missing");
}

TEST_CASE("a report with a field of the wrong type is rejected at that field") {
  const std::string s = rfc_sample();
  const std::string id = R"("report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be")";
  check_rejected(replace_nth(s, id, R"("report-id": 5065427)"), "report-id",
                 "expected a string, got 5065427");
  check_rejected(replace_nth(s, id, R"("report-id": "  ")"), "report-id", "empty");
  check_rejected(replace_nth(s, id, R"("report-id": null)"), "report-id",
                 "expected a string, got null");
  check_rejected(replace_nth(s, R"("organization-name": "Company-X")",
                             R"("organization-name": ["Company-X"])"),
                 "organization-name", "expected a string, got an array");
  check_rejected(replace_nth(s, R"("contact-info": "sts-reporting@company-x.example")",
                             R"("contact-info": true)"),
                 "contact-info", "expected a string, got true");
  check_rejected(replace_nth(s, R"("date-range": {)", R"("date-range": [], "x": {)"), "date-range",
                 "expected an object, got an array");
  check_rejected(replace_nth(s, R"("start-datetime": "2016-04-01T00:00:00Z")",
                             R"("start-datetime": 1459468800)"),
                 "date-range.start-datetime", "expected a string, got 1459468800");
  check_rejected(replace_nth(s, R"("end-datetime": "2016-04-01T23:59:59Z")",
                             R"("end-datetime": "2016-04-31T23:59:59Z")"),
                 "date-range.end-datetime",
                 "expected an RFC 3339 date-time, got \"2016-04-31T23:59:59Z\"");
  check_rejected(replace_nth(s, R"("end-datetime": "2016-04-01T23:59:59Z")",
                             R"("end-datetime": "2016-03-31T23:59:59Z")"),
                 "date-range",
                 "end-datetime 2016-03-31T23:59:59Z precedes start-datetime 2016-04-01T00:00:00Z");
}

TEST_CASE("policies and their parts of the wrong type are rejected at their path") {
  const std::string s = rfc_sample();
  check_rejected(replace_nth(s, R"("policies": [)", R"("policies": "none", "x": [)"), "policies",
                 "expected an array, got \"none\"");
  check_rejected(replace_nth(two_policies(), R"("policy": {)", R"("policy": 7, "x": {)", 1),
                 "policies[1].policy", "expected an object, got 7");
  check_rejected(replace_nth(s, R"("policy-type": "sts")", R"("policy-type": ["sts"])"),
                 "policies[0].policy.policy-type", "expected a string, got an array");
  check_rejected(replace_nth(s, R"("policy-type": "sts")", R"("policy-type": "")"),
                 "policies[0].policy.policy-type", "empty");
  check_rejected(replace_nth(s, R"("mode: testing")", R"(42)"),
                 "policies[0].policy.policy-string[1]", "expected a string, got 42");
  check_rejected(replace_nth(s, R"("policy-domain": "company-y.example")",
                             R"("policy-domain": {"name": "company-y.example"})"),
                 "policies[0].policy.policy-domain", "expected a string, got an object");
  check_rejected(replace_nth(s, R"("*.mail.company-y.example"
        ])",
                             R"(false
        ])"),
                 "policies[0].policy.mx-host[0]", "expected a string, got false");
  check_rejected(replace_nth(s, R"("summary": {)", R"("summary": "ok", "x": {)"),
                 "policies[0].summary", "expected an object, got \"ok\"");
}

TEST_CASE("failure details of the wrong type are rejected at their path") {
  const std::string s = rfc_sample();
  check_rejected(replace_nth(s, R"("failure-details": [)", R"("failure-details": 3, "x": [)"),
                 "policies[0].failure-details", "expected an array, got 3");
  check_rejected(
      replace_nth(s, R"("sending-mta-ip": "198.51.100.62")", R"("sending-mta-ip": 3325256766)"),
      "policies[0].failure-details[2].sending-mta-ip", "expected a string, got 3325256766");
  check_rejected(
      replace_nth(s, R"("result-type": "starttls-not-supported")", R"("result-type": {"x": 1})"),
      "policies[0].failure-details[1].result-type", "expected a string, got an object");
  check_rejected(replace_nth(s, R"("failure-reason-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED")",
                             R"("failure-reason-code": 12)"),
                 "policies[0].failure-details[2].failure-reason-code", "expected a string, got 12");
}

TEST_CASE("a count that is negative, fractional, too large or not a number is rejected") {
  const std::string s = rfc_sample();
  const std::string ok = R"("total-successful-session-count": 5326)";
  const std::string path = "policies[0].summary.total-successful-session-count";
  const std::string expected = "expected a non-negative integer, got ";
  auto with = [&](const std::string& literal) {
    return replace_nth(s, ok, R"("total-successful-session-count": )" + literal);
  };
  check_rejected(with("-1"), path, expected + "-1");
  check_rejected(with("1.5"), path, expected + "1.5");
  check_rejected(with("5326.0"), path, expected + "5326.0");
  check_rejected(with("1e3"), path, expected + "1e3");
  check_rejected(with("\"5326\""), path, expected + "\"5326\"");
  check_rejected(with("true"), path, expected + "true");
  check_rejected(with("[5326]"), path, expected + "an array");
  check_rejected(with("9223372036854775808"), path,
                 expected + "9223372036854775808, which does not fit in 64 bits");
  check_rejected(with("184467440737095516160000"), path,
                 expected + "184467440737095516160000, which does not fit in 64 bits");
  check_rejected(with("-9223372036854775809"), path,
                 expected + "-9223372036854775809, which does not fit in 64 bits");
  check_rejected(
      replace_nth(s, R"("failed-session-count": 200)", R"("failed-session-count": -200)"),
      "policies[0].failure-details[1].failed-session-count", expected + "-200");
}

TEST_CASE("the largest 64-bit count is read exactly") {
  const report r = parse(replace_nth(rfc_sample(), R"("total-successful-session-count": 5326)",
                                     R"("total-successful-session-count": 9223372036854775807)"));
  CHECK(r.policies.at(0).total_successful_session_count == 9223372036854775807);
}

TEST_CASE("text that is not a JSON object is rejected as a whole") {
  const std::string s = rfc_sample();
  check_rejected("", "", "not JSON: The document is empty. at offset 0");
  check_rejected("[1, 2]", "", "expected a JSON object, got an array");
  check_rejected("\"report\"", "", "expected a JSON object, got \"report\"");
  check_rejected("garbage", "", "not JSON: Invalid value. at offset 0");
  check_rejected(s.substr(0, 200), "",
                 "not JSON: Missing a closing quotation mark in string. at offset 200");
  check_rejected(s + "garbage", "",
                 "not JSON: The document root must not be followed by other values. at offset " +
                     std::to_string(s.size()));
  check_rejected(replace_nth(s, R"("Company-X")", R"("Company-X" garbage)"), "",
                 "not JSON: Missing a comma or '}' after an object member. at offset 37");
  check_rejected(
      s + std::string(1, '\0') + "tail", "",
      "not JSON: unexpected data after the document at offset " + std::to_string(s.size()));
  check_rejected(replace_nth(s, "Company-X", "Company-\xC3X"), "",
                 "not JSON: Invalid encoding in string. at offset 34");
}

TEST_CASE("every truncation of a sample is rejected without a crash") {
  const std::string s = rfc_sample();
  // Cut after the last significant character is still the whole document.
  const std::size_t last = s.find_last_not_of(" \t\r\n");
  for (std::size_t n = 0; n <= last; ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS((void)parse(std::string_view(s).substr(0, n)), parse_error);
  }
}

TEST_CASE("nesting deeper than the limit is rejected before the parser descends into it") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  check_rejected(deep, "", "nesting deeper than 64 levels at offset 64");
  const std::string deep_objects = [] {
    std::string t;
    for (int i = 0; i < 100000; ++i) t += "{\"a\":";
    return t + "1" + std::string(100000, '}');
  }();
  check_rejected(deep_objects, "", "nesting deeper than 64 levels at offset 320");
  // Deep values under an unknown key count too.
  const std::string s = rfc_sample();
  check_rejected(
      replace_nth(s, R"("report-id")",
                  "\"x\": " + std::string(70, '[') + std::string(70, ']') + ", \"report-id\""),
      "", "nesting deeper than 64 levels at offset 273");
}

TEST_CASE("a nesting limit is kept, and named at the same offset, on either side of 256") {
  // Up to 256 levels the parser recurses, past it it iterates: the same bracket is named.
  const std::string deep = std::string(2000, '[') + std::string(2000, ']');
  for (const std::size_t depth : {std::size_t{255}, std::size_t{256}, std::size_t{257}}) {
    parse_limits limits;
    limits.max_depth = depth;
    CHECK(rejection(deep, limits).cause() == "nesting deeper than " + std::to_string(depth) +
                                                 " levels at offset " + std::to_string(depth));
  }
  // A limit far past the input's depth: read without recursion, then refused as not an object.
  parse_limits unbounded;
  unbounded.max_depth = 1'000'000;
  const std::string very_deep = std::string(200000, '[') + std::string(200000, ']');
  CHECK(rejection(very_deep, unbounded).cause() == "expected a JSON object, got an array");
}

TEST_CASE("the configured limits bound size, nesting, policies and failure details") {
  const std::string s = rfc_sample();
  parse_limits small;
  small.max_bytes = 100;
  {
    const parse_error e = rejection(s, small);
    CHECK(e.path().empty());
    CHECK(e.cause() == std::to_string(s.size()) + " bytes exceed the limit of 100");
  }
  parse_limits shallow;
  shallow.max_depth = 3;
  CHECK(rejection(s, shallow).cause() == "nesting deeper than 3 levels at offset 296");
  parse_limits few;
  few.max_policies = 1;
  const parse_error p = rejection(two_policies(), few);
  CHECK(p.path() == "policies");
  CHECK(p.cause() == "2 policies exceed the limit of 1");
  parse_limits details;
  details.max_failure_details = 2;
  const parse_error d = rejection(s, details);
  CHECK(d.path() == "policies[0].failure-details");
  CHECK(d.cause() == "3 failure details exceed the limit of 2");
}

}  // namespace tlsrpt::report::test
