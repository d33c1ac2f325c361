// SPDX-License-Identifier: Apache-2.0
// Notifications of findings (issue 19): each finding notifies once when it opens and once when
// it resolves, never while it stays open, across passes, processes and restarts. The state is
// in the database (tlsrpt.alerts, one row per opening; tlsrpt.alert_deliveries, one row per
// alert, channel and event), so a restart neither forgets what was sent nor sends it again.
// A channel that fails is retried on later rounds with a doubling backoff; collection never
// waits for one (alert_worker). Bodies and payloads are documented in docs/alerts.md.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tlsrpt/monitor/finding.hpp"

namespace spdlog {
class logger;
}

namespace tlsrpt::monitor {

// A place notifications go. deliver() throws (imap::delivery_error, a std::runtime_error) when
// the message did not get there.
class channel {
 public:
  virtual ~channel() = default;
  // Stable across restarts and distinct per destination, with no secret in it (a webhook URL
  // holds its token): the alert_deliveries.channel value, e.g. "webhook:slack:3f2a9c01d4e5".
  virtual std::string id() const = 0;
  // For logs: the kind and the destination without its secret.
  virtual std::string describe() const = 0;
  // event: "opened" or "resolved".
  virtual void deliver(const std::string& event, const store::alert_row& alert) = 0;
};

// The channels of alerts.webhooks and alerts.email, the SMTP password resolved now (throws
// config::error when it cannot be read).
std::vector<std::unique_ptr<channel>> channels_from(const config::alerts& a,
                                                    const std::string& config_file);

// The bodies, for the channels and the tests. `a.resolved` is set for a resolution.
std::string webhook_body(config::webhook::format f, const std::string& event,
                         const store::alert_row& a);
std::string alert_mail(const config::email& e, const std::string& event, const store::alert_row& a,
                       std::chrono::sys_seconds now);

struct notify_options {
  std::chrono::seconds first_retry = std::chrono::minutes(1);  // after a first failure
  std::chrono::seconds max_retry = std::chrono::hours(6);      // doubling stops here
  int max_deliveries = 100;                                    // per round
  // How long a claimed delivery is ours before another process may try it (it outlasts the
  // channel timeouts of a whole round).
  std::chrono::seconds lease = std::chrono::minutes(15);
};

struct notify_result {
  std::size_t opened = 0;
  std::size_t resolved = 0;
  std::size_t delivered = 0;
  std::size_t failed = 0;
};

// The wait before the next attempt of a delivery that has failed `failures` times (1, 2,
// ...): first_retry doubled per failure, never more than max_retry.
std::chrono::seconds retry_delay(const notify_options& o, int failures) noexcept;

// Makes the alert state match `findings` and delivers what is due, its own and what earlier
// rounds still owe. Findings under alerts.min_severity keep their state but are not sent. With
// `only_domain`, alerts of other domains are left as they are. Throws store::error; a failing
// channel is recorded (attempts, last_error, next_attempt) and tried once per round at most.
notify_result notify(store::pg_monitor& db, const std::vector<finding>& findings,
                     const std::vector<std::unique_ptr<channel>>& channels,
                     const config::alerts& cfg, const notify_options& o = {},
                     const std::optional<std::string>& only_domain = std::nullopt,
                     const std::shared_ptr<spdlog::logger>& log = nullptr);

// Reads the facts, evaluates the rules and notifies: one round, as `run` and `poll` do after a
// pass and `check --notify` on demand. Throws store::error.
notify_result evaluate_and_notify(store::pg_monitor& db, const config::alerts& cfg,
                                  const std::vector<std::unique_ptr<channel>>& channels,
                                  const notify_options& o = {},
                                  const std::shared_ptr<spdlog::logger>& log = nullptr);

// For `run`: a thread that records mailbox passes, evaluates the findings and notifies, off
// the collector's threads. submit() only queues and wakes it: it never waits for the database
// or a channel, so a dead webhook or SMTP server cannot delay a pass. Passes submitted while
// a round runs are folded into the next one. With a `period`, a round also runs when that long
// has passed without one (retries due, and `run` serving HTTP with no mailbox to pass over).
class alert_worker {
 public:
  // `work` runs on the worker thread with the passes gathered since the last round; what it
  // throws is logged by it, not here (it must not throw).
  using work_fn = std::function<void(std::vector<store::pass_record>)>;
  explicit alert_worker(work_fn work,
                        std::chrono::milliseconds period = std::chrono::milliseconds::zero());
  ~alert_worker();  // finishes the round in hand, then joins
  alert_worker(const alert_worker&) = delete;
  alert_worker& operator=(const alert_worker&) = delete;

  void submit(store::pass_record pass);
  // Rounds finished so far (tests).
  std::size_t rounds() const;

 private:
  void loop();
  work_fn work_;
  std::chrono::milliseconds period_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<store::pass_record> pending_;
  bool wake_ = false;
  bool stop_ = false;
  std::size_t rounds_ = 0;
  std::thread thread_;
};

}  // namespace tlsrpt::monitor
