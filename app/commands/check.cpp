// SPDX-License-Identifier: Apache-2.0
// `check`: the open findings, with monitoring-plugin exit codes (0 OK, 1 WARNING, 2 CRITICAL,
// 3 UNKNOWN) instead of sysexits, so Nagios, Icinga and cron use it as it is. The findings are
// lib/tlsrpt/monitor's; this file only wires and prints.
#include <iostream>

#include "../app.hpp"
#if TLSRPT_HAVE_MONITOR
#include "tlsrpt/monitor/alerts.hpp"
#include "tlsrpt/monitor/finding.hpp"
#endif

namespace tlsrpt::app {

int cmd_check(context& ctx, const check_findings_args& a) {
  // Every failure to evaluate is UNKNOWN (3) in the plugin convention, with the cause.
  constexpr int unknown = 3;
  try {
#if TLSRPT_HAVE_MONITOR
    const auto& rules = ctx.cfg().alerts.rules;
    const std::string url = ctx.database_url();
    ctx.migrate_if_configured();
    store::pg_monitor db(url);
    const auto facts = db.read_facts(monitor::facts_options_for(rules, a.domain));
    auto found = monitor::evaluate(facts, rules);
    if (a.domain) std::erase_if(found, [](const monitor::finding& f) { return !f.policy_domain; });
    if (a.notify) {
      // The same round `run` makes after a pass: what opened or resolved is sent once, what
      // earlier rounds still owe is retried. A channel that fails is recorded, not fatal: the
      // status is the findings'.
      const auto channels = monitor::channels_from(ctx.cfg().alerts, ctx.cfg().file);
      (void)monitor::notify(db, found, channels, ctx.cfg().alerts, {}, a.domain, ctx.log());
    }
    std::cout << (a.format == "json" ? monitor::to_json(found, facts.as_of)
                                     : monitor::to_text(found));
    return monitor::plugin_status(found);
#else
    (void)ctx;
    (void)a;
    throw failure(exit_code::unavailable,
                  "check: not available: this build lacks the monitor module");
#endif
  } catch (...) {
    report_exception(std::current_exception());
    if (a.format != "json") std::cout << "TLSRPT UNKNOWN - cannot evaluate the findings\n";
    return unknown;
  }
}

}  // namespace tlsrpt::app
