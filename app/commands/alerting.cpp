// SPDX-License-Identifier: Apache-2.0
#include "alerting.hpp"

#if TLSRPT_HAVE_MONITOR && TLSRPT_HAVE_COLLECTOR
#include <spdlog/spdlog.h>

#include "tlsrpt/collector/collector.hpp"
#include "tlsrpt/text/escape.hpp"

namespace tlsrpt::app {

void alert_round(context& ctx, const std::vector<store::pass_record>& passes,
                 const std::vector<std::unique_ptr<monitor::channel>>& channels) {
  const auto log = ctx.log();
  try {
    store::pg_monitor db(ctx.database_url());
    db.record_passes(passes);
    const auto r = monitor::evaluate_and_notify(db, ctx.cfg().alerts, channels, {}, log);
    if (r.opened + r.resolved + r.delivered + r.failed > 0)
      log->info("alerts: {} opened, {} resolved, {} notification(s) sent, {} failed", r.opened,
                r.resolved, r.delivered, r.failed);
  } catch (const std::exception& e) {
    log->warn("alerts: {}", text::escape_c(e.what()));
  }
}

alerting::alerting(context& ctx, std::vector<std::unique_ptr<monitor::channel>> channels,
                   std::chrono::milliseconds period, collector::observer* next)
    : channels_(std::move(channels)),
      next_(next),
      worker_([&ctx, this](
                  std::vector<store::pass_record> passes) { alert_round(ctx, passes, channels_); },
              period) {}

void alerting::on_message(const collector::message_event& e) noexcept {
  if (next_ != nullptr) next_->on_message(e);
}

void alerting::on_store_error(const collector::store_error_event& e) noexcept {
  if (next_ != nullptr) next_->on_store_error(e);
}

void alerting::on_pass(const collector::pass_event& e) noexcept {
  if (next_ != nullptr) next_->on_pass(e);
  // Another collector's pass over a folder we found locked: it records its own.
  if (e.stats != nullptr && e.stats->locked_out) return;
  try {
    worker_.submit({.mailbox = std::string(e.mailbox),
                    .ok = !e.error,
                    .error = e.error ? std::string(*e.error) : std::string()});
  } catch (...) {
    // Out of memory queueing a pass record: the next pass records its mailbox again.
  }
}

}  // namespace tlsrpt::app
#endif
