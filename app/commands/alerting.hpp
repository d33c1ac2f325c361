// SPDX-License-Identifier: Apache-2.0
// Wiring of the notifications (issue 19) for `poll`, `run` and `check --notify`: the channels
// from `alerts:`, one round after each pass, and for `run` the worker thread fed by the
// pipeline's pass events. The rounds themselves are lib/tlsrpt/monitor's.
#pragma once

#include <memory>
#include <vector>

#include "../app.hpp"

#if TLSRPT_HAVE_MONITOR && TLSRPT_HAVE_COLLECTOR
#include "tlsrpt/collector/events.hpp"
#include "tlsrpt/monitor/alerts.hpp"

namespace tlsrpt::app {

// One round (record the passes, evaluate, notify), as `poll` runs it after its pass. Never
// throws: a database or channel that fails costs a warning, never the pass's exit code.
void alert_round(context& ctx, const std::vector<store::pass_record>& passes,
                 const std::vector<std::unique_ptr<monitor::channel>>& channels);

// For `run`: observes passes (and forwards every event to `next`, the metrics, when set) and
// runs the rounds on its own thread, at least every `period`.
class alerting final : public collector::observer {
 public:
  alerting(context& ctx, std::vector<std::unique_ptr<monitor::channel>> channels,
           std::chrono::milliseconds period, collector::observer* next);
  void on_message(const collector::message_event& e) noexcept override;
  void on_pass(const collector::pass_event& e) noexcept override;
  void on_store_error(const collector::store_error_event& e) noexcept override;

 private:
  std::vector<std::unique_ptr<monitor::channel>> channels_;
  collector::observer* next_;
  monitor::alert_worker worker_;  // last: its thread stops before the channels go
};

}  // namespace tlsrpt::app
#endif
