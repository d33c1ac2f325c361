// SPDX-License-Identifier: Apache-2.0
// The findings engine (issue 19): rules evaluated over the database's daily numbers, each
// yielding findings with a stable key, a severity and the numbers behind them. `check`, the
// notifications, the digest and the dashboard all read these; the JSON form (to_json) is a
// stable interface documented in docs/findings.md.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/config/config.hpp"
#include "tlsrpt/store/monitor_store.hpp"

namespace tlsrpt::monitor {

using config::severity;

struct metric {
  std::string name;  // snake_case: failed_sessions, blocking_failure_rate, ...
  double value = 0;
};

struct finding {
  // rule/domain/subject, stable across runs: "certificate/example.com/certificate-expired/
  // mx1.example.com/192.0.2.1". The alert state is keyed by it.
  std::string key;
  std::string rule;  // new-failure, failure-rate, spike, certificate, silent-reporter,
                     // readiness-changed, collector
  severity level = severity::warning;
  std::optional<std::string> policy_domain;  // nullopt for collector findings
  std::string subject;  // the result type, MX host, reporter or mailbox; "" for the domain
  std::string title;    // one line
  std::vector<metric> numbers;
  std::string meaning;
  std::string to_check;
};

// Every rule over the facts, sorted by severity (critical first), then key.
std::vector<finding> evaluate(const store::monitor_facts& facts, const config::alert_rules& rules);

// What read_facts() must read for these rules.
store::facts_options facts_options_for(const config::alert_rules& rules,
                                       const std::optional<std::string>& domain = std::nullopt);

// Reads the facts from the database and evaluates them. Throws store::error.
std::vector<finding> evaluate(store::pg_monitor& db, const config::alert_rules& rules,
                              const std::optional<std::string>& domain = std::nullopt);

// Monitoring-plugin status of a set of findings: 0 OK, 1 WARNING, 2 CRITICAL.
int plugin_status(const std::vector<finding>& findings) noexcept;

// One finding as a JSON object (the stable interface), and the `check --format json` document.
std::string to_json(const finding& f);
std::string to_json(const std::vector<finding>& findings, std::chrono::sys_seconds as_of);
// The `check` text: a plugin status line ("TLSRPT WARNING - ...| perfdata"), then one block per
// finding.
std::string to_text(const std::vector<finding>& findings);

bool at_least(severity s, severity min) noexcept;

}  // namespace tlsrpt::monitor
