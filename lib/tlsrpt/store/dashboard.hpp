// SPDX-License-Identifier: Apache-2.0
// What the dashboard pages show, read from the daily rollups (migrations 0004, 0009) and the
// ledger.
// Plain values: the pages (lib/tlsrpt/dashboard) render them, and know nothing of SQL. Every
// string that a report or a message supplied is returned as stored, unescaped: escaping is the
// renderer's business, for the place it writes to.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tlsrpt/store/pg_store.hpp"

namespace tlsrpt::store {

struct dashboard_options {
  // The window, as `summary` counts it: UTC days of date_begin from today - days to today.
  int days = 30;
  std::optional<std::string> domain;  // the overview: only this policy domain
  double threshold = 0.001;  // readiness and the failure-rate chart's line (summary's default)
  int sparkline_days = 30;   // the overview's per-domain sparkline
  int recent_reports = 20;   // the domain page's recent reports
  int messages = 200;        // the messages page's rows
  std::size_t raw_json_limit = 64 * 1024;  // bytes of a report's raw JSON kept for the page
};

struct day_sessions {
  std::string day;  // YYYY-MM-DD (UTC)
  std::int64_t successful = 0;
  std::int64_t failed = 0;
};

struct reporter_seen {
  std::string reporter;
  std::string last_day;  // the latest UTC day it reported about, YYYY-MM-DD
  std::int64_t sessions = 0;
};

struct domain_overview {
  std::optional<std::string> policy_domain;  // nullopt: reports without one (Postfix)
  std::int64_t reports = 0;  // summed over the rollup's groups, as `summary` counts them
  std::int64_t sessions = 0;
  std::int64_t successful_sessions = 0;
  std::int64_t failed_sessions = 0;
  std::vector<reporter_seen> reporters;  // in the window, by name
  std::vector<day_sessions> sparkline;   // sparkline_days days up to today, every day present
  // No readiness here: the badges are the findings engine's (dashboard/monitor_view.hpp).
};

struct mailbox_health {
  std::string source;     // mailbox name from the config, file, stdin
  std::string last_seen;  // latest ledger activity, "YYYY-MM-DD HH:MM UTC"
  std::int64_t messages = 0;
  std::int64_t rejected = 0;
  std::int64_t skipped = 0;
  std::int64_t pending = 0;  // outcome NULL: attempts only
};

struct overview {
  int days = 30;
  std::string from_day, to_day;  // the window, YYYY-MM-DD, inclusive
  std::string generated_at;      // "YYYY-MM-DD HH:MM:SS UTC", the database's clock
  double threshold = 0.001;
  std::vector<domain_overview> domains;  // by sessions, descending
  std::vector<mailbox_health> mailboxes;
  std::int64_t rejected_messages = 0;  // rejected + skipped, all time
};

struct type_day {
  std::string policy_type;
  std::string day;
  std::int64_t successful = 0;
  std::int64_t failed = 0;
};

struct failure_row {
  std::string result_type;
  std::optional<std::string> receiving_mx_hostname;
  std::string reporter;
  std::int64_t failed_sessions = 0;
  std::int64_t reports = 0;
  std::string last_day;
};

struct readiness_day {
  std::string day;
  verdict result = verdict::no_data;
  std::int64_t sessions = 0;
  std::int64_t blocking_failed_sessions = 0;
  std::int64_t policy_error_sessions = 0;
};

struct recent_report {
  std::int64_t id = 0;
  std::string reporter;
  std::string report_id;
  std::string date_begin, date_end;  // "YYYY-MM-DD HH:MM UTC"
  std::int64_t sessions = 0;         // of this domain's policies
  std::int64_t failed_sessions = 0;
  std::string raw_json;  // pretty-printed, at most raw_json_limit bytes
  std::size_t raw_json_size = 0;
};

struct domain_detail {
  std::string policy_domain;
  int days = 30;
  std::string from_day, to_day;
  std::string generated_at;
  double threshold = 0.001;
  domain_overview totals;
  std::vector<std::string> days_list;  // every day of the window, ascending
  std::vector<type_day> by_type;       // per policy type and day (days with sessions only)
  std::vector<failure_row> failures;   // by failed sessions, descending
  std::vector<readiness_day> readiness;
  std::vector<recent_report> recent;  // newest first
};

struct message_row {
  std::int64_t id = 0;
  std::string source;
  std::string folder;
  std::optional<std::int64_t> uid;
  std::optional<std::string> sender;
  std::optional<std::string> subject;
  std::string outcome;  // rejected, skipped
  std::string error;
  std::string last_seen;  // "YYYY-MM-DD HH:MM UTC"
  std::optional<std::int64_t> size;
  int attempts = 0;
};

struct messages_page {
  std::string generated_at;
  std::int64_t total = 0;  // rejected + skipped rows (the page shows the newest `messages`)
  std::vector<message_row> rows;
};

// Reads the pages' data. One connection, opened on first use and again after it broke.
// Every method throws store::error ("store: cannot read the dashboard overview: ...").
class pg_dashboard {
 public:
  explicit pg_dashboard(std::string url);
  ~pg_dashboard();
  pg_dashboard(const pg_dashboard&) = delete;
  pg_dashboard& operator=(const pg_dashboard&) = delete;

  overview read_overview(const dashboard_options& o = {});
  // nullopt when the domain has no sessions in the rollup at all.
  std::optional<domain_detail> read_domain(const std::string& policy_domain,
                                           const dashboard_options& o = {});
  messages_page read_messages(const dashboard_options& o = {});

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace tlsrpt::store
