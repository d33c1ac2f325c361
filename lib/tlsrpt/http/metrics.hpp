// SPDX-License-Identifier: Apache-2.0
// The collector's Prometheus metrics: an observer of the pipeline's events (it is told, it never
// asks) plus the HTTP server's answers, rendered in the Prometheus text exposition format
// (version 0.0.4). Every name is documented in the README's "Metrics" section.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tlsrpt/collector/events.hpp"

namespace tlsrpt::http {

class server;

class metrics final : public collector::observer {
 public:
  explicit metrics(std::string version);

  // Mailboxes known from the configuration: their series exist (at zero) before a first pass.
  void declare_mailbox(const std::string& name);

  void on_message(const collector::message_event& e) noexcept override;
  void on_pass(const collector::pass_event& e) noexcept override;
  void on_store_error(const collector::store_error_event& e) noexcept override;
  void on_http_response(std::string_view route, int status) noexcept;

  std::string render() const;

  // Mailboxes whose last `threshold` passes or more failed, with that count.
  std::vector<std::pair<std::string, int>> failing_mailboxes(int threshold) const;

 private:
  struct mailbox {
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    int consecutive_failures = 0;
    double last_success = 0;  // unix time, 0 before the first
    std::uint64_t backlog = 0;
    std::vector<std::uint64_t> duration_buckets;  // cumulative at render time
    double duration_sum = 0;
    std::uint64_t duration_count = 0;
  };
  mailbox& mailbox_of(const std::string& name);

  std::string version_;
  mutable std::mutex mutex_;
  std::map<std::string, mailbox> mailboxes_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> messages_;  // source, outcome
  std::map<std::string, std::uint64_t> reports_;                           // by source
  std::map<std::string, std::uint64_t> db_errors_;                         // by kind
  std::map<std::pair<std::string, int>, std::uint64_t> http_;              // route, code
};

// Registers GET /metrics.
void add_metrics_endpoint(server& s, const metrics& m, std::string path = "/metrics");

// Label values escaped for the exposition format (backslash, double quote, newline).
std::string escape_label(std::string_view v);

}  // namespace tlsrpt::http
