// SPDX-License-Identifier: Apache-2.0
// `report --html FILE`: the dashboard's pages as one self-contained HTML file (for cron,
// e-mail or an intranet). The pages are rendered by lib/tlsrpt/dashboard; this file only
// gathers what they need and writes the file.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "../app.hpp"
#include "tlsrpt/insight/explain.hpp"
#if TLSRPT_HAVE_STORE
#include "tlsrpt/dashboard/pages.hpp"
#include "tlsrpt/store/dashboard.hpp"
#endif

namespace tlsrpt::app {

namespace {
constexpr int cantcreat = 73;  // EX_CANTCREAT: the output file cannot be written
}  // namespace

#if TLSRPT_HAVE_STORE
dashboard::explainer dashboard_explainer() {
  return [](std::string_view type) {
    const auto e = insight::explain(type);
    return dashboard::explanation{e.meaning, e.to_check};
  };
}
#endif

int cmd_report(context& ctx, const report_args& a) {
#if TLSRPT_HAVE_STORE
  store::pg_dashboard db(ctx.database_url());
  store::dashboard_options o;
  o.days = a.days;
  o.domain = a.domain;
  const auto overview = db.read_overview(o);
  std::vector<store::domain_detail> domains;
  for (const auto& d : overview.domains) {
    if (!d.policy_domain) continue;
    if (domains.size() == static_cast<std::size_t>(a.max_domains)) break;
    if (auto page = db.read_domain(*d.policy_domain, o)) domains.push_back(std::move(*page));
  }
  if (a.domain && domains.empty()) {
    if (auto page = db.read_domain(*a.domain, o)) domains.push_back(std::move(*page));
  }
  const auto messages = db.read_messages(o);
  // The findings and the readiness badges by the monitor's rules (alerts.rules), as `check`.
  auto findings = std::make_shared<const dashboard::monitor_view>(
      dashboard::evaluate_monitor(ctx.database_url(), ctx.cfg().alerts.rules));
  const std::string html =
      dashboard::report_file(overview, domains, messages, dashboard_explainer(), findings);
  if (a.html == "-") {
    std::cout << html;
    std::cout.flush();
    if (!std::cout) throw failure(exit_code::software, "report: cannot write to stdout");
    return exit_code::ok;
  }
  // Written next to the target and renamed, so a reader (a web server, a mailer) never sees
  // half a file.
  const std::filesystem::path target(a.html);
  const std::filesystem::path tmp = target.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << html;
    f.close();
    if (!f)
      throw failure(cantcreat,
                    "report: cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw failure(cantcreat, "report: cannot rename " + tmp.string() + " to " + target.string() +
                                 ": " + ec.message());
  }
  return exit_code::ok;
#else
  (void)ctx;
  (void)a;
  throw failure(exit_code::unavailable, "report: not available: this build lacks the store module");
#endif
}

}  // namespace tlsrpt::app
