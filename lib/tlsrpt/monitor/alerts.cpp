// SPDX-License-Identifier: Apache-2.0
// The alert rounds: sync the state with the findings, deliver what is due, retry with backoff;
// and the worker thread that runs them for `run`.
#include "tlsrpt/monitor/alerts.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "tlsrpt/text/escape.hpp"

namespace tlsrpt::monitor {

std::chrono::seconds retry_delay(const notify_options& o, int failures) noexcept {
  auto d = std::max(o.first_retry, std::chrono::seconds(1));
  for (int i = 1; i < failures && d < o.max_retry; ++i) d *= 2;
  return std::min(d, o.max_retry);
}

notify_result notify(store::pg_monitor& db, const std::vector<finding>& findings,
                     const std::vector<std::unique_ptr<channel>>& channels,
                     const config::alerts& cfg, const notify_options& o,
                     const std::optional<std::string>& only_domain,
                     const std::shared_ptr<spdlog::logger>& log) {
  const auto lg = log ? log : spdlog::default_logger();
  std::vector<store::open_finding> open;
  for (const auto& f : findings)
    open.push_back({.key = f.key,
                    .rule = f.rule,
                    .severity = std::string(config::to_string(f.level)),
                    .policy_domain = f.policy_domain,
                    .title = f.title,
                    .payload = to_json(f),
                    .notify = at_least(f.level, cfg.min_severity)});
  std::vector<std::string> ids;
  for (const auto& c : channels) ids.push_back(c->id());
  const auto changes = db.sync_alerts(open, ids, only_domain);
  notify_result res{.opened = changes.opened.size(), .resolved = changes.resolved.size()};
  for (const auto& a : changes.opened)
    lg->info("finding opened: {} ({})", text::escape_c(a.title), text::escape_c(a.key));
  for (const auto& a : changes.resolved)
    lg->info("finding resolved: {} ({})", text::escape_c(a.title), text::escape_c(a.key));
  if (channels.empty()) return res;

  // A channel that failed in this round is not tried again until its backoff is over: a dead
  // receiver costs one timeout per round, not one per message.
  std::vector<std::pair<std::string, std::chrono::seconds>> failed_now;
  for (const auto& d : db.claim_deliveries(o.max_deliveries, o.lease)) {
    const auto ch = std::find_if(channels.begin(), channels.end(),
                                 [&](const auto& c) { return c->id() == d.channel; });
    if (ch == channels.end()) {
      // A channel no longer configured: kept, in case it comes back, but not looked at often.
      db.delivery_postpone(d.alert.id, d.channel, d.event, o.max_retry);
      continue;
    }
    const auto down = std::find_if(failed_now.begin(), failed_now.end(),
                                   [&](const auto& p) { return p.first == d.channel; });
    if (down != failed_now.end()) {
      db.delivery_postpone(d.alert.id, d.channel, d.event, down->second);
      continue;
    }
    try {
      (*ch)->deliver(d.event, d.alert);
      db.delivery_done(d.alert.id, d.channel, d.event);
      ++res.delivered;
      lg->info("notified {}: {} {}", (*ch)->describe(), d.event, text::escape_c(d.alert.key));
    } catch (const store::error&) {
      throw;
    } catch (const std::exception& e) {
      const auto wait = retry_delay(o, d.attempts + 1);
      db.delivery_failed(d.alert.id, d.channel, d.event, e.what(), wait);
      failed_now.emplace_back(d.channel, wait);
      ++res.failed;
      lg->warn("{} ({} of {}, attempt {}; next try in {} s)", text::escape_c(e.what()), d.event,
               text::escape_c(d.alert.key), d.attempts + 1, wait.count());
    }
  }
  return res;
}

notify_result evaluate_and_notify(store::pg_monitor& db, const config::alerts& cfg,
                                  const std::vector<std::unique_ptr<channel>>& channels,
                                  const notify_options& o,
                                  const std::shared_ptr<spdlog::logger>& log) {
  return notify(db, evaluate(db, cfg.rules), channels, cfg, o, std::nullopt, log);
}

alert_worker::alert_worker(work_fn work, std::chrono::milliseconds period)
    : work_(std::move(work)), period_(period), thread_([this] { loop(); }) {}

alert_worker::~alert_worker() {
  {
    const std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void alert_worker::submit(store::pass_record pass) {
  {
    const std::lock_guard lock(mu_);
    pending_.push_back(std::move(pass));
    wake_ = true;
  }
  cv_.notify_one();
}

std::size_t alert_worker::rounds() const {
  const std::lock_guard lock(mu_);
  return rounds_;
}

void alert_worker::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    const auto woken = [&] { return wake_ || stop_; };
    if (period_ > std::chrono::milliseconds::zero()) {
      cv_.wait_for(lock, period_, woken);  // a timeout runs a round with no passes
    } else {
      cv_.wait(lock, woken);
    }
    if (stop_) return;
    std::vector<store::pass_record> passes;
    passes.swap(pending_);
    wake_ = false;
    lock.unlock();
    try {
      work_(std::move(passes));
    } catch (...) {
      // work_ reports its own failures; one failing round must not end the worker.
    }
    lock.lock();
    ++rounds_;
  }
}

}  // namespace tlsrpt::monitor
