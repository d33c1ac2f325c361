// SPDX-License-Identifier: Apache-2.0
// Hand-built reports and small database helpers for the store tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tlsrpt/report/report.hpp"
#include "tlsrpt/store/pg_store.hpp"

namespace tlsrpt::test::store {

// Midnight UTC, `days_ago` days before today.
report::timestamp day_start(int days_ago);

struct detail_spec {
  std::string result = "certificate-expired";
  std::int64_t failed = 1;
  std::optional<std::string> mx = "mx1.example.com";
  std::optional<std::string> receiving_ip = "192.0.2.25";
  std::optional<std::string> sending_ip = "198.51.100.7";
};

struct policy_spec {
  std::string type = "sts";
  std::optional<std::string> domain = "example.com";
  std::optional<report::sts_mode> mode = report::sts_mode::testing;
  std::int64_t successful = 100;
  std::int64_t failed = 0;
  std::vector<detail_spec> details;
};

// A report covering one UTC day; organization, id and policies as given.
report::report make_report(const std::string& org, const std::string& id, int days_ago,
                           std::vector<policy_spec> policies);

// A JSON text standing in for the raw report (the store keeps it as jsonb; its content is
// not re-parsed).
std::string raw_json_for(const report::report& r);

// A message carrying the given reports, identified by an IMAP UID in folder INBOX.
tlsrpt::store::message_input imap_message(std::uint32_t uid, std::vector<report::report> reports,
                                          const std::string& source = "main");

// Runs SQL against url and returns the first column of the first row as text ("" on NULL).
std::string query1(const std::string& url, const std::string& sql);
long long count(const std::string& url, const std::string& sql);

// The scratch database with the schema migrated.
std::string migrated(const std::string& url);

}  // namespace tlsrpt::test::store
