// SPDX-License-Identifier: Apache-2.0
#include "store/fixtures.hpp"

#include <pqxx/pqxx>

namespace tlsrpt::test::store {

report::timestamp day_start(int days_ago) {
  using namespace std::chrono;
  const auto today = floor<days>(system_clock::now());
  return report::timestamp(today - days(days_ago));
}

report::report make_report(const std::string& org, const std::string& id, int days_ago,
                           std::vector<policy_spec> policies) {
  report::report r;
  r.organization_name = org;
  r.contact_info = "tlsrpt@" + (org.empty() ? std::string("nowhere.example") : org);
  r.report_id = id;
  r.date_begin = day_start(days_ago);
  r.date_end = r.date_begin + std::chrono::hours(24) - std::chrono::seconds(1);
  for (const auto& ps : policies) {
    report::policy p;
    p.type_raw = ps.type;
    p.policy_domain = ps.domain;
    if (ps.type == "sts") {
      p.policy_strings = {
          "version: STSv1",
          std::string("mode: ") + (ps.mode == report::sts_mode::enforce ? "enforce" : "testing"),
          "mx: mx1.example.com", "max_age: 86400"};
      p.mode = ps.mode;
      p.max_age = 86400;
      p.mx_hosts = {"mx1.example.com"};
    }
    p.total_successful_session_count = ps.successful;
    p.total_failure_session_count = ps.failed;
    for (const auto& ds : ps.details) {
      report::failure_detail& f = p.failure_details.emplace_back();
      f.result_raw = ds.result;
      f.failed_session_count = ds.failed;
      f.receiving_mx_hostname = ds.mx;
      f.receiving_ip = ds.receiving_ip;
      f.sending_mta_ip = ds.sending_ip;
    }
    r.policies.push_back(p);
  }
  return r;
}

std::string raw_json_for(const report::report& r) {
  std::string s = "{\"organization-name\":\"" + r.organization_name + "\",\"report-id\":\"" +
                  r.report_id + "\",\"policies\":[";
  for (std::size_t i = 0; i < r.policies.size(); ++i) {
    const auto& p = r.policies[i];
    if (i > 0) s += ",";
    s += "{\"summary\":{\"total-successful-session-count\":" +
         std::to_string(p.total_successful_session_count) +
         ",\"total-failure-session-count\":" + std::to_string(p.total_failure_session_count) + "}}";
  }
  return s + "]}";
}

tlsrpt::store::message_input imap_message(std::uint32_t uid, std::vector<report::report> reports,
                                          const std::string& source) {
  tlsrpt::store::message_input m;
  m.facts.key.source = source;
  m.facts.key.folder = "INBOX";
  m.facts.key.uidvalidity = 1;
  m.facts.key.uid = uid;
  m.facts.key.sha256 = tlsrpt::store::sha256_hex(source + "/" + std::to_string(uid));
  m.facts.message_id = "<" + std::to_string(uid) + "@test>";
  m.facts.from = "noreply@reporter.example";
  m.facts.subject = "Report";
  m.facts.submitter = "reporter.example";
  m.facts.date = "2024-05-02T01:02:03Z";
  m.facts.size = 1234;
  m.kind = tlsrpt::store::outcome::stored;
  for (auto& r : reports) {
    tlsrpt::store::report_input in;
    in.raw_json = raw_json_for(r);
    in.parsed = std::move(r);
    m.reports.push_back(std::move(in));
  }
  return m;
}

std::string query1(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::read_transaction tx(c);
  const auto r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

long long count(const std::string& url, const std::string& sql) {
  const std::string v = query1(url, sql);
  return v.empty() ? -1 : std::stoll(v);
}

std::string migrated(const std::string& url) {
  tlsrpt::store::migrate(url);
  return url;
}

}  // namespace tlsrpt::test::store
