// SPDX-License-Identifier: Apache-2.0
// Escaping and the charts' text alternatives, without a database.
#include <doctest/doctest.h>

#include "tlsrpt/dashboard/charts.hpp"
#include "tlsrpt/dashboard/html.hpp"
#include "tlsrpt/dashboard/pages.hpp"

namespace html = tlsrpt::dashboard::html;
namespace charts = tlsrpt::dashboard::charts;

TEST_CASE("markup in report data is escaped for content and attributes alike") {
  CHECK(html::escape("<script>alert('x')</script>") ==
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
  CHECK(html::escape("a\" onmouseover=\"x") == "a&quot; onmouseover=&quot;x");
  CHECK(html::escape("R&D") == "R&amp;D");
  CHECK(html::escape("plain.example") == "plain.example");
}

TEST_CASE("bidi controls are shown as code points, not applied") {
  CHECK(html::escape("evil\xE2\x80\xAEgnp.exe") == "evil[U+202E]gnp.exe");
  CHECK(html::escape("\xE2\x81\xA6x\xE2\x81\xA9") == "[U+2066]x[U+2069]");
  CHECK(html::escape("\xE2\x80\x8F") == "[U+200F]");
  // Other non-ASCII text stays as it is.
  CHECK(html::escape("Gr\xC3\xBC\xC3\x9F Gott \xE6\x97\xA5\xE6\x9C\xAC") ==
        "Gr\xC3\xBC\xC3\x9F Gott \xE6\x97\xA5\xE6\x9C\xAC");
}

TEST_CASE("invalid UTF-8 and control characters become U+FFFD") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(html::escape("a\xFF"
                     "b") == "a" + fffd + "b");
  CHECK(html::escape("\xC0\xAF") == fffd + fffd);             // overlong '/'
  CHECK(html::escape("\xED\xA0\x80") == fffd + fffd + fffd);  // a surrogate
  CHECK(html::escape("\xE2\x80") == fffd + fffd);             // truncated at the end
  CHECK(html::escape(std::string("a\0b\x1b[31m", 8)) == "a" + fffd + "b" + fffd + "[31m");
  CHECK(html::escape("\xC2\x85") == fffd);  // C1 NEL
  CHECK(html::escape("tab\tand\nnewline") == "tab\tand\nnewline");
}

TEST_CASE("a 10 KB name is cut to a readable length with its size") {
  const std::string name(10240, 'L');
  const auto t = html::text(name, 100);
  CHECK(t == std::string(100, 'L') + "\xE2\x80\xA6 (10,240 bytes)");
  CHECK(html::text("short", 100) == "short");
  // The cut counts code points and never splits one.
  CHECK(html::text("\xC3\xA9\xC3\xA9\xC3\xA9", 2) == "\xC3\xA9\xC3\xA9\xE2\x80\xA6 (6 bytes)");
}

TEST_CASE("numbers and rates are formatted for reading") {
  CHECK(html::count(0) == "0");
  CHECK(html::count(999) == "999");
  CHECK(html::count(1000) == "1,000");
  CHECK(html::count(1234567) == "1,234,567");
  CHECK(html::count(-4200) == "-4,200");
  CHECK(html::percent(0) == "0%");
  CHECK(html::percent(0.125) == "12.5%");
  CHECK(html::percent(0.0123) == "1.23%");
  CHECK(html::percent(0.001) == "0.100%");
  CHECK(html::percent(0.0000042) == "0.00042%");
  CHECK(html::url_component("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
}

TEST_CASE("every chart is an image with a title and a description in words") {
  const std::vector<charts::day_bar> days{{"2026-11-30", 100, 0}, {"2026-12-01", 90, 10}};
  const auto s = charts::stacked_days(days, "Sessions <per> day", "190 successful");
  CHECK(s.find("role=\"img\"") != std::string::npos);
  CHECK(s.find("<title>Sessions &lt;per&gt; day</title>") != std::string::npos);
  CHECK(s.find("<desc>190 successful</desc>") != std::string::npos);
  CHECK(s.find("2026-12-01: 90 successful, 10 failed") != std::string::npos);
  const auto spark = charts::sparkline(days, "2 days");
  CHECK(spark.find("class=\"fail\"") != std::string::npos);
  const auto line = charts::rate_line({{"2026-11-30", 0.0}, {"2026-12-01", std::nullopt}}, 0.001,
                                      "Rate", "one day");
  CHECK(line.find("threshold 0.100%") != std::string::npos);
}

TEST_CASE("a page carries a policy that forbids scripts and external resources") {
  tlsrpt::store::messages_page m;
  m.generated_at = "2026-12-01 12:00:00 UTC";
  m.total = 1;
  m.rows.push_back({.id = 1,
                    .source = "main",
                    .folder = "INBOX",
                    .uid = 7,
                    .sender = "<img src=x onerror=alert(1)>",
                    .subject = "Report",
                    .outcome = "rejected",
                    .error = "report: <b>bad</b>",
                    .last_seen = "2026-12-01 11:00 UTC"});
  const auto page = tlsrpt::dashboard::messages_page(m, tlsrpt::dashboard::served_context({}, 30));
  CHECK(page.find("Content-Security-Policy\" content=\"default-src 'none'") != std::string::npos);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(page.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  CHECK(page.find("<b>") == std::string::npos);
  CHECK(page.find("<script") == std::string::npos);
}

namespace {

tlsrpt::dashboard::monitor_view view_with(tlsrpt::store::sts_readiness r) {
  tlsrpt::dashboard::monitor_view v;
  v.as_of = "2026-12-02 00:30 UTC";
  v.readiness[r.policy_domain] = std::move(r);
  return v;
}

}  // namespace

TEST_CASE("the readiness badge says what the monitor's rule found, in the issue's words") {
  namespace d = tlsrpt::dashboard::detail;
  namespace st = tlsrpt::store;
  CHECK(d::readiness_badge(nullptr, "a.example").find("not evaluated yet") != std::string::npos);
  st::sts_readiness r;
  r.policy_domain = "a.example";
  r.result = st::verdict::ready;
  auto v = view_with(r);
  CHECK(d::readiness_badge(&v, "a.example") ==
        "<span class=\"badge ready\" data-verdict=\"ready\">ready</span>");
  CHECK(d::readiness_badge(&v, "b.example").find("data-verdict=\"no-data\"") != std::string::npos);

  // Only time missing: how far along.
  r.result = st::verdict::not_ready;
  r.observed_days = 9;
  r.min_days = 14;
  r.missing = {"days"};
  r.reasons = {"9 of 14 days of reports in testing mode"};
  v = view_with(r);
  const auto partial = d::readiness_badge(&v, "a.example");
  CHECK(partial.find(">9 of 14 days</span>") != std::string::npos);
  CHECK(partial.find("data-verdict=\"not-ready\"") != std::string::npos);

  // Failures: the top blocking type and the host that saw most of it, escaped.
  r.missing = {"days", "failure-rate"};
  r.blocking_result_types = {"certificate-expired", "starttls-not-supported"};
  r.reasons.push_back("certificate-expired: 60 failed sessions (MX <b>mx2</b>)");
  v = view_with(r);
  v.worst_mx["a.example"] = "mx2.<b>example</b>";
  const auto failing = d::readiness_badge(&v, "a.example");
  CHECK(failing.find(">not ready: certificate-expired on mx2.&lt;b&gt;example&lt;/b&gt;</span>") !=
        std::string::npos);
  CHECK(failing.find("(MX &lt;b&gt;mx2&lt;/b&gt;)") != std::string::npos);
  CHECK(failing.find("<b>") == std::string::npos);
}

TEST_CASE("the findings section lists the open findings, escaped, or says why there are none") {
  namespace d = tlsrpt::dashboard::detail;
  CHECK(
      d::findings_section(nullptr, std::nullopt, nullptr, "h2").find("data-findings=\"pending\"") !=
      std::string::npos);
  tlsrpt::dashboard::monitor_view failed;
  failed.error = "store: cannot connect: <refused>";
  const auto err = d::findings_section(&failed, std::nullopt, nullptr, "h2");
  CHECK(err.find("data-findings=\"error\"") != std::string::npos);
  CHECK(err.find("&lt;refused&gt;") != std::string::npos);

  tlsrpt::dashboard::monitor_view v;
  v.as_of = "2026-12-02 00:30 UTC";
  tlsrpt::monitor::finding f;
  f.key = "certificate/a.example/certificate-expired/<mx>";
  f.rule = "certificate";
  f.level = tlsrpt::config::severity::critical;
  f.policy_domain = "a.example";
  f.title = "certificate-expired at <script>x</script>";
  f.to_check = "the certificate";
  v.findings.push_back(f);
  f.rule = "collector";
  f.level = tlsrpt::config::severity::warning;
  f.policy_domain.reset();
  f.title = "mailbox main failing";
  v.findings.push_back(f);
  const auto all = d::findings_section(
      &v, std::nullopt, [](const std::string& n) { return "domain?name=" + n; }, "h2");
  CHECK(all.find("data-findings=\"2\"") != std::string::npos);
  CHECK(all.find("1 critical, 1 warning") != std::string::npos);
  CHECK(all.find("<tr data-severity=\"critical\" data-rule=\"certificate\">") != std::string::npos);
  CHECK(all.find("&lt;script&gt;x&lt;/script&gt;") != std::string::npos);
  CHECK(all.find("<script>") == std::string::npos);
  CHECK(all.find("href=\"domain?name=a.example\"") != std::string::npos);
  // A domain's page: only its findings, without the domain column.
  const auto one = d::findings_section(&v, std::string("a.example"), nullptr, "h3");
  CHECK(one.find("data-findings=\"1\"") != std::string::npos);
  CHECK(one.find("mailbox main failing") == std::string::npos);
  CHECK(d::findings_section(&v, std::string("b.example"), nullptr, "h3").find("No open findings") !=
        std::string::npos);
}

TEST_CASE("the overview shows the first 100 findings and says how many there are") {
  namespace d = tlsrpt::dashboard::detail;
  tlsrpt::dashboard::monitor_view v;
  v.as_of = "2026-12-02 00:30 UTC";
  for (int i = 0; i < 250; ++i) {
    tlsrpt::monitor::finding f;
    f.key = "k" + std::to_string(i);
    f.rule = "spike";
    f.policy_domain = "a.example";
    f.title = "finding " + std::to_string(i);
    v.findings.push_back(f);
  }
  const auto s = d::findings_section(&v, std::nullopt, nullptr, "h2");
  CHECK(s.find("data-findings=\"250\"") != std::string::npos);
  CHECK(s.find("lists all 250") != std::string::npos);
  CHECK(s.find("finding 99<") != std::string::npos);
  CHECK(s.find("finding 100<") == std::string::npos);
}
