// SPDX-License-Identifier: Apache-2.0
// What the pages show of the monitor (lib/tlsrpt/monitor): the open findings, and each policy
// domain's readiness for enforce by the monitor's own rule, the rows of
// tlsrpt.sts_readiness_at() that `check` and `summary` judge by, so that a badge never says
// "ready" where `check` says otherwise.
//
// Evaluating them reads the raw tables over the rules' windows (seconds for a million reports,
// BENCHMARKS.md), which no page view should wait for: `run` keeps a snapshot that a background
// thread refreshes, and the pages render the latest one with its time. `report --html`
// evaluates once.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tlsrpt/config/config.hpp"
#include "tlsrpt/monitor/finding.hpp"
#include "tlsrpt/store/pg_store.hpp"

namespace tlsrpt::dashboard {

struct monitor_view {
  std::string as_of;  // "YYYY-MM-DD HH:MM UTC", the database's clock
  std::vector<monitor::finding> findings;
  std::map<std::string, store::sts_readiness> readiness;  // by policy domain
  // The receiving MX host that saw most of the domain's top blocking failure type.
  std::map<std::string, std::string> worst_mx;
  std::optional<std::string> error;  // the evaluation failed: why (the rest is empty)
};

// Reads the facts and evaluates the rules once. Never throws: a failure is kept in .error.
monitor_view evaluate_monitor(const std::string& database_url, const config::alert_rules& rules);

// The latest evaluation, refreshed every `every` on a thread of its own (the first at once; a
// failed one again after 10 s).
class monitor_snapshot {
 public:
  monitor_snapshot(std::function<monitor_view()> evaluate, std::chrono::milliseconds every);
  // Stops the thread. An evaluation in progress is waited for half a second at most: `run`
  // must stop within a second of SIGTERM, and an evaluation of a big database takes longer
  // (the thread then ends on its own when its queries return; it owns what it uses).
  ~monitor_snapshot();
  monitor_snapshot(const monitor_snapshot&) = delete;
  monitor_snapshot& operator=(const monitor_snapshot&) = delete;

  // nullptr until the first evaluation has ended.
  std::shared_ptr<const monitor_view> latest() const;

  struct state;

 private:
  std::shared_ptr<state> state_;
  std::thread thread_;
};

namespace detail {

// The readiness badge of one domain: "ready", "9 of 14 days", "not ready: certificate-expired
// on mx2.example.com", "no data", or "not evaluated yet" without a view. HTML.
std::string readiness_badge(const monitor_view* v, const std::string& policy_domain);
// The MTA-STS mode the rule saw last, or nullopt.
std::optional<std::string> sts_mode(const monitor_view* v, const std::string& policy_domain);
// The open findings as a section of the overview (all) or of a domain's page (that domain's).
std::string findings_section(const monitor_view* v, const std::optional<std::string>& domain,
                             const std::function<std::string(const std::string&)>& domain_href,
                             std::string_view heading_tag);

}  // namespace detail

}  // namespace tlsrpt::dashboard
