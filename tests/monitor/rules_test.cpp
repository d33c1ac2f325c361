// SPDX-License-Identifier: Apache-2.0
// Each rule at its edges, over generated days (no database: the facts are built here the way
// pg_monitor reads them).
#include <doctest/doctest.h>

#include <algorithm>

#include "tlsrpt/monitor/finding.hpp"

namespace mon = tlsrpt::monitor;
namespace st = tlsrpt::store;
using tlsrpt::config::alert_rules;
using tlsrpt::config::severity;

namespace {

constexpr int today = 20000;  // a UTC day number; the rules only see differences

st::monitor_facts facts() {
  st::monitor_facts f;
  f.today = today;
  f.as_of = std::chrono::sys_seconds(std::chrono::seconds(std::int64_t{today} * 86400 + 43200));
  return f;
}

// `sessions` sessions a day for days [today - from, today - to], `blocking` of them failing.
void add_days(st::monitor_facts& f, const std::string& domain, const std::string& reporter,
              int from, int to, std::int64_t sessions, std::int64_t blocking = 0,
              const std::string& type = "certificate-expired",
              const std::string& host = "mx1.example.com") {
  for (int ago = from; ago >= to; --ago) {
    f.days.push_back({.policy_domain = domain,
                      .reporter = reporter,
                      .day = today - ago,
                      .sessions = sessions,
                      .failed = blocking,
                      .blocking = blocking});
    if (blocking > 0)
      f.failures.push_back({.policy_domain = domain,
                            .reporter = reporter,
                            .day = today - ago,
                            .result_type = type,
                            .mx_host = host,
                            .receiving_ip = "192.0.2.1",
                            .failed = blocking});
  }
}

std::vector<mon::finding> of_rule(const std::vector<mon::finding>& v, const std::string& rule) {
  std::vector<mon::finding> out;
  std::copy_if(v.begin(), v.end(), std::back_inserter(out),
               [&](const mon::finding& f) { return f.rule == rule; });
  return out;
}

double number(const mon::finding& f, const std::string& name) {
  for (const auto& n : f.numbers)
    if (n.name == name) return n.value;
  FAIL("no number " << name);
  return 0;
}

}  // namespace

TEST_CASE("failure rate fires just over the threshold and not at it") {
  alert_rules r;  // window 2d (days today-2..today), threshold 0.1 %, min_sessions 100
  auto f = facts();
  add_days(f, "at.example", "G", 2, 1, 5000, 5);    // 10 of 10000 = exactly 0.1 %
  add_days(f, "over.example", "G", 2, 1, 5000, 6);  // 12 of 10000 = 0.12 %
  const auto found = of_rule(mon::evaluate(f, r), "failure-rate");
  REQUIRE(found.size() == 1);
  CHECK(found[0].key == "failure-rate/over.example");
  CHECK(found[0].level == severity::warning);
  CHECK(number(found[0], "blocking_failure_rate") == doctest::Approx(0.0012));
  CHECK(number(found[0], "sessions") == 10000);
  CHECK(found[0].meaning.find("certificate-expired") != std::string::npos);
}

TEST_CASE("failure rate needs min_sessions in the window, and outside it counts nothing") {
  alert_rules r;
  auto f = facts();
  add_days(f, "few.example", "G", 1, 1, 99, 1);      // 1 of 99: under min_sessions
  add_days(f, "enough.example", "G", 1, 1, 100, 1);  // 1 of 100 = 1 %
  add_days(f, "old.example", "G", 3, 3, 1000, 500);  // before the window
  const auto found = of_rule(mon::evaluate(f, r), "failure-rate");
  REQUIRE(found.size() == 1);
  CHECK(found[0].policy_domain == "enough.example");
}

TEST_CASE("failure rate is critical when the policy is already in enforce") {
  alert_rules r;
  auto f = facts();
  add_days(f, "enforced.example", "G", 1, 1, 1000, 10);
  f.readiness.push_back({.policy_domain = "enforced.example", .sts_mode = "enforce"});
  const auto found = of_rule(mon::evaluate(f, r), "failure-rate");
  REQUIRE(found.size() == 1);
  CHECK(found[0].level == severity::critical);
  CHECK(mon::plugin_status(found) == 2);
}

TEST_CASE("a spike is at least spike_factor times the baseline, with a long enough baseline") {
  alert_rules r;  // factor 3, baseline 14 days before the window, min_baseline_days 7
  auto f = facts();
  // Baseline 0.1 % over 14 days for all three.
  for (const auto* d : {"x3.example", "x2.example", "short.example"})
    add_days(f, d, "G", 16, std::string(d) == "short.example" ? 11 : 3, 1000, 1);
  add_days(f, "x3.example", "G", 2, 1, 1000, 3);     // 0.3 % = 3x
  add_days(f, "x2.example", "G", 2, 1, 1000, 2);     // 0.2 % = 2x: no spike
  add_days(f, "short.example", "G", 2, 1, 1000, 9);  // baseline only 6 days (16..11)
  const auto found = of_rule(mon::evaluate(f, r), "spike");
  REQUIRE(found.size() == 1);
  CHECK(found[0].key == "spike/x3.example");
  CHECK(number(found[0], "factor") == doctest::Approx(3.0));
  CHECK(number(found[0], "baseline_failure_rate") == doctest::Approx(0.001));
}

TEST_CASE("a new failure type or MX host fires once the baseline is long enough") {
  alert_rules r;
  auto f = facts();
  // known.example: 14 clean baseline days, then certificate-expired at a new host.
  add_days(f, "known.example", "G", 16, 3, 1000);
  add_days(f, "known.example", "G", 1, 1, 1000, 2, "certificate-expired", "mx9.known.example");
  // seen.example: the same failure in the baseline already.
  add_days(f, "seen.example", "G", 16, 3, 1000, 1);
  add_days(f, "seen.example", "G", 1, 1, 1000, 1);
  // young.example: only 6 days of baseline: too short to call anything new.
  add_days(f, "young.example", "G", 8, 3, 1000);
  add_days(f, "young.example", "G", 1, 1, 1000, 2, "starttls-not-supported");
  const auto found = of_rule(mon::evaluate(f, r), "new-failure");
  REQUIRE(found.size() == 2);
  CHECK(found[0].key == "new-failure/known.example/mx:mx9.known.example");
  CHECK(found[1].key == "new-failure/known.example/type:certificate-expired");
  CHECK(found[1].meaning == "The MX host presented an expired certificate.");
  CHECK(number(found[1], "baseline_days") == 14);

  // Exactly min_baseline_days (7) of baseline is enough.
  auto g = facts();
  add_days(g, "young.example", "G", 9, 3, 1000);
  add_days(g, "young.example", "G", 1, 1, 1000, 2, "starttls-not-supported");
  CHECK(of_rule(mon::evaluate(g, r), "new-failure").size() == 2);
}

TEST_CASE("certificate failures in the window are critical and name the MX host and IP") {
  alert_rules r;
  auto f = facts();
  add_days(f, "example.com", "G", 2, 2, 1000, 1, "certificate-not-trusted", "mx2.example.com");
  add_days(f, "example.com", "M", 3, 3, 1000, 1, "certificate-expired");  // outside the window
  add_days(f, "example.com", "M", 1, 1, 1000, 1, "starttls-not-supported");
  const auto found = of_rule(mon::evaluate(f, r), "certificate");
  REQUIRE(found.size() == 1);
  CHECK(found[0].key ==
        "certificate/example.com/certificate-not-trusted/mx2.example.com/192.0.2.1");
  CHECK(found[0].level == severity::critical);
  CHECK(found[0].title.find("MX mx2.example.com (192.0.2.1)") != std::string::npos);
  CHECK(number(found[0], "days_ago") == 2);
}

TEST_CASE("a silent reporter had reports on silent_active_days of the previous days") {
  alert_rules r;  // silent after 3 days: nothing in [today-3, today]; 5 of the 14 days before
  auto f = facts();
  // Reported on 5 days with gaps, the last 4 days ago.
  for (int ago : {4, 6, 9, 12, 17}) add_days(f, "example.com", "Google", ago, ago, 10);
  // Reported on only 4 days: not regular enough to miss.
  for (int ago : {4, 6, 9, 12}) add_days(f, "example.com", "Sporadic", ago, ago, 10);
  // Regular, but reported 3 days ago: still within the quiet period.
  for (int ago : {3, 5, 7, 9, 11}) add_days(f, "example.com", "Recent", ago, ago, 10);
  // Regular, but only before the 14 days (day 18 and older) count nothing.
  for (int ago : {18, 19, 20, 21, 22, 4}) add_days(f, "example.com", "Old", ago, ago, 10);
  const auto found = of_rule(mon::evaluate(f, r), "silent-reporter");
  REQUIRE(found.size() == 1);
  CHECK(found[0].key == "silent-reporter/example.com/Google");
  CHECK(number(found[0], "active_days") == 5);
  CHECK(number(found[0], "days_silent") == 4);
}

TEST_CASE("readiness changed fires when the verdict differs from the day before") {
  alert_rules r;
  auto f = facts();
  const auto v = [](const char* d, st::verdict x) {
    return st::sts_readiness{.policy_domain = d,
                             .result = x,
                             .reasons = {"13 of 14 days of reports in testing mode"},
                             .min_days = 14,
                             .observed_days = x == st::verdict::ready ? 14 : 13,
                             .min_reporters = 2};
  };
  f.readiness = {v("became.example", st::verdict::ready), v("stayed.example", st::verdict::ready),
                 v("lost.example", st::verdict::not_ready)};
  f.readiness_day_before = {v("became.example", st::verdict::not_ready),
                            v("stayed.example", st::verdict::ready),
                            v("lost.example", st::verdict::ready)};
  const auto found = of_rule(mon::evaluate(f, r), "readiness-changed");
  REQUIRE(found.size() == 2);
  CHECK(found[0].key == "readiness-changed/became.example/ready");
  CHECK(found[0].title ==
        "became.example: became ready for enforce (14 of 14 days, 0 of 2 reporters)");
  CHECK(found[1].key == "readiness-changed/lost.example/not-ready");
  CHECK(found[1].title.find("13 of 14 days") != std::string::npos);
}

TEST_CASE("collector health: a mailbox failing longer than stale_after, rejected messages") {
  alert_rules r;  // stale_after 1h
  auto f = facts();
  using std::chrono::minutes;
  f.mailboxes.push_back({.mailbox = "long",
                         .failing_since = f.as_of - minutes(61),
                         .last_error = "imap: cannot log in: refused"});
  f.mailboxes.push_back({.mailbox = "short", .failing_since = f.as_of - minutes(60)});
  f.mailboxes.push_back({.mailbox = "fine", .last_success = f.as_of});
  f.rejected = 2;
  f.last_rejection = "report: bad JSON";
  const auto found = of_rule(mon::evaluate(f, r), "collector");
  REQUIRE(found.size() == 2);
  CHECK(found[0].key == "collector/mailbox/long");
  CHECK(found[0].level == severity::critical);
  CHECK(found[0].title.find("imap: cannot log in: refused") != std::string::npos);
  CHECK(found[1].key == "collector/rejected");
  CHECK(found[1].level == severity::warning);
}

TEST_CASE("no findings is OK, and the JSON names every field of the stable interface") {
  alert_rules r;
  auto f = facts();
  add_days(f, "clean.example", "G", 20, 0, 1000);
  const auto none = mon::evaluate(f, r);
  CHECK(none.empty());
  CHECK(mon::plugin_status(none) == 0);
  CHECK(mon::to_text(none).starts_with("TLSRPT OK - no open findings | critical=0 warning=0\n"));

  add_days(f, "bad\"name.example", "G\n", 1, 1, 1000, 5, "certificate-expired", "mx\x01.example");
  const auto found = mon::evaluate(f, r);
  REQUIRE(!found.empty());
  const auto json = mon::to_json(found, f.as_of);
  CHECK(json.starts_with(
      "{\"status\":\"CRITICAL\",\"exit_code\":2,\"as_of\":\"2024-10-04T12:00:00Z\","
      "\"findings\":[{\"key\":\"certificate/bad\\\"name.example/"));
  for (const char* field : {"\"rule\":", "\"severity\":", "\"domain\":", "\"subject\":",
                            "\"title\":", "\"numbers\":{", "\"meaning\":", "\"what_to_check\":"})
    CHECK(json.find(field) != std::string::npos);
  CHECK(json.find("mx\\u0001.example") != std::string::npos);
  CHECK(mon::to_text(found).find("mx?.example") != std::string::npos);
}
