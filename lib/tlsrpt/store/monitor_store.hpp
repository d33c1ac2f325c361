// SPDX-License-Identifier: Apache-2.0
// What the findings engine (lib/tlsrpt/monitor) reads from the database and the state it keeps
// there: daily numbers per domain and reporter, failures per day and host, readiness now and a
// day before, mailbox passes, and the alert state (migration 0005). The SQL lives in
// pg_monitor.cpp; no libpqxx type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tlsrpt/store/pg_store.hpp"

namespace tlsrpt::store {

using seconds_clock = std::chrono::sys_seconds;

// Sessions of one policy domain seen by one reporter on one UTC day (of date_begin).
struct domain_day {
  std::string policy_domain;
  std::string reporter;
  int day = 0;  // days since 1970-01-01
  std::int64_t sessions = 0;
  std::int64_t failed = 0;
  std::int64_t blocking = 0;  // failed sessions enforce would refuse (see blocks_enforce())
};

// Failed sessions of one result type at one receiving host, per domain, reporter and day.
struct failure_day {
  std::string policy_domain;
  std::string reporter;
  int day = 0;
  std::string result_type;
  std::optional<std::string> mx_host;
  std::optional<std::string> receiving_ip;
  std::int64_t failed = 0;
};

struct mailbox_pass {
  std::string mailbox;
  seconds_clock last_pass{};
  std::optional<seconds_clock> last_success;
  std::optional<seconds_clock> failing_since;  // set while passes fail
  std::optional<std::string> last_error;
};

struct readiness_rules {
  int days = 30;
  double threshold = 0.001;
  int min_days = 14;
  int min_reporters = 2;
  int quiet_days = 3;
};

struct facts_options {
  std::optional<seconds_clock> as_of;  // default: the database's now()
  int history_days = 30;               // how far back days and failures are read
  int window_days = 2;                 // rejected messages are counted over this window
  readiness_rules readiness;
  std::optional<std::string> domain;  // only this policy domain
};

struct monitor_facts {
  seconds_clock as_of{};
  int today = 0;  // as_of's UTC day, days since 1970-01-01
  std::vector<domain_day> days;
  std::vector<failure_day> failures;
  std::vector<sts_readiness> readiness;             // as of as_of
  std::vector<sts_readiness> readiness_day_before;  // as of as_of - 24h
  std::vector<mailbox_pass> mailboxes;
  std::int64_t rejected = 0;  // messages rejected in the window
  std::optional<std::string> last_rejection;
};

struct pass_record {
  std::string mailbox;
  bool ok = true;
  std::string error;  // when !ok
};

// One alert row (tlsrpt.alerts) with what its channels still owe.
struct alert_row {
  std::int64_t id = 0;
  std::string key;
  std::string rule;
  std::string severity;
  std::optional<std::string> policy_domain;
  std::string title;
  seconds_clock opened{};
  std::optional<seconds_clock> resolved;
  std::optional<seconds_clock> last_notified;
  std::string payload;  // the finding as JSON
  std::string meaning;  // from the payload, for messages
  std::string to_check;
};

struct pending_delivery {
  alert_row alert;
  std::string channel;
  std::string event;  // opened | resolved
  int attempts = 0;
};

// An open finding as the engine yields it, for sync_alerts().
struct open_finding {
  std::string key;
  std::string rule;
  std::string severity;
  std::optional<std::string> policy_domain;
  std::string title;
  std::string payload;
  bool notify = true;  // at or above alerts.min_severity: its opening and resolution are sent
};

struct alert_changes {
  std::vector<alert_row> opened;
  std::vector<alert_row> resolved;
};

class pg_monitor {
 public:
  // Connects lazily, like pg_store.
  explicit pg_monitor(std::string url);
  ~pg_monitor();
  pg_monitor(const pg_monitor&) = delete;
  pg_monitor& operator=(const pg_monitor&) = delete;

  monitor_facts read_facts(const facts_options& options = {});

  // The outcome of one pass per mailbox (poll, run).
  void record_passes(const std::vector<pass_record>& passes);

  // Makes tlsrpt.alerts match the open findings in one transaction: a key not open gets a new
  // row (opened), an open row whose key is gone is resolved, the others get last_seen. Each
  // opening and resolution gets one pending delivery per channel. With `only_domain`, rows of
  // other domains are left alone (a `check --domain` run does not resolve them).
  alert_changes sync_alerts(const std::vector<open_finding>& findings,
                            const std::vector<std::string>& channels,
                            const std::optional<std::string>& only_domain = std::nullopt);

  // Deliveries not yet made whose next attempt is due, claimed for `lease`: until then no
  // other call (in this or another process) returns them. Report each with delivery_done or
  // delivery_failed.
  std::vector<pending_delivery> claim_deliveries(int limit, std::chrono::seconds lease);
  void delivery_done(std::int64_t alert_id, const std::string& channel, const std::string& event);
  // Counts a failed attempt; the next one is not before `retry_after`.
  void delivery_failed(std::int64_t alert_id, const std::string& channel, const std::string& event,
                       const std::string& error, std::chrono::seconds retry_after);
  // Gives a claimed delivery back untried, due again after `retry_after` (its channel failed
  // on another message of this round, or is no longer configured).
  void delivery_postpone(std::int64_t alert_id, const std::string& channel,
                         const std::string& event, std::chrono::seconds retry_after);

  // Alerts opened or resolved since `since` (digest), newest first.
  std::vector<alert_row> alerts_since(seconds_clock since);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// "example.com" from "Example.COM." (the form the reports' policy domains are compared in).
std::string normalize_domain(std::string d);

}  // namespace tlsrpt::store
