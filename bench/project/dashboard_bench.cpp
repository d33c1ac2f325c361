// SPDX-License-Identifier: Apache-2.0
// tlsrpt-bench-dashboard URL [runs]: how long the dashboard takes to read and render its pages
// from a database (scripts/bench.sh fills one with a million reports). Prints one line per page:
// the median wall time of `runs` runs, split into the store's reads and the rendering, and for
// the overview the CPU time of the PostgreSQL backend and of this process per run: on a shared
// machine the wall time includes waiting for a core, the CPU time does not. The findings and
// readiness that the overview shows are evaluated once first (the snapshot `run` refreshes
// off the request path), timed on their own line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/bench_util.hpp"
#include "tlsrpt/dashboard/pages.hpp"
#include "tlsrpt/store/dashboard.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

tlsrpt::dashboard::explanation none(std::string_view) { return {"", ""}; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tlsrpt-bench-dashboard URL [runs]\n");
    return 64;
  }
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  try {
    tlsrpt::store::pg_dashboard db(argv[1]);
    const std::string url0 = argv[1];
    const auto e0 = clock_type::now();
    auto view = std::make_shared<const tlsrpt::dashboard::monitor_view>(
        tlsrpt::dashboard::evaluate_monitor(url0, tlsrpt::config::alert_rules{}));
    const double eval_ms = ms(clock_type::now() - e0);
    if (view->error) throw std::runtime_error(*view->error);
    const auto ctx = tlsrpt::dashboard::served_context(none, 30, view);
    std::vector<double> ov_read, ov_render, dom_read, dom_render, msg_read, ov_backend, ov_client;
    const std::string url = argv[1];
    std::string dbname = url.substr(url.rfind('/') + 1);
    dbname = dbname.substr(0, dbname.find('?'));
    std::size_t domains = 0, bytes = 0;
    std::string top;
    for (int i = 0; i < runs; ++i) {
      (void)db.read_messages({.days = 30});  // connected before the clock
      const double backend0 = tlsrpt::bench::backends_cpu_seconds(dbname);
      const double client0 = tlsrpt::bench::self_cpu_seconds();
      auto t0 = clock_type::now();
      const auto o = db.read_overview({.days = 30});
      auto t1 = clock_type::now();
      const auto page = tlsrpt::dashboard::overview_page(o, ctx);
      auto t2 = clock_type::now();
      ov_backend.push_back(1000 * (tlsrpt::bench::backends_cpu_seconds(dbname) - backend0));
      ov_client.push_back(1000 * (tlsrpt::bench::self_cpu_seconds() - client0));
      ov_read.push_back(ms(t1 - t0));
      ov_render.push_back(ms(t2 - t1));
      domains = o.domains.size();
      bytes = page.size();
      if (!o.domains.empty() && o.domains.front().policy_domain)
        top = *o.domains.front().policy_domain;
      if (!top.empty()) {
        t0 = clock_type::now();
        const auto d = db.read_domain(top, {.days = 30});
        t1 = clock_type::now();
        if (d) (void)tlsrpt::dashboard::domain_page(*d, ctx);
        t2 = clock_type::now();
        dom_read.push_back(ms(t1 - t0));
        dom_render.push_back(ms(t2 - t1));
      }
      t0 = clock_type::now();
      (void)db.read_messages({.days = 30});
      msg_read.push_back(ms(clock_type::now() - t0));
    }
    std::printf(
        "overview  %zu domains, %zu bytes: %.1f ms (store %.1f ms, render %.1f ms); CPU: "
        "PostgreSQL backend %.0f ms, this process %.0f ms\n",
        domains, bytes, tlsrpt::bench::median(ov_read) + tlsrpt::bench::median(ov_render),
        tlsrpt::bench::median(ov_read), tlsrpt::bench::median(ov_render),
        tlsrpt::bench::median(ov_backend), tlsrpt::bench::median(ov_client));
    if (!dom_read.empty())
      std::printf("domain    %s: %.1f ms (store %.1f ms, render %.1f ms)\n", top.c_str(),
                  tlsrpt::bench::median(dom_read) + tlsrpt::bench::median(dom_render),
                  tlsrpt::bench::median(dom_read), tlsrpt::bench::median(dom_render));
    std::printf("messages  %.1f ms\n", tlsrpt::bench::median(msg_read));
    std::printf(
        "findings  %zu open, readiness of %zu domains: %.0f ms, once (off the request path in "
        "run)\n",
        view->findings.size(), view->readiness.size(), eval_ms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tlsrpt-bench-dashboard: %s\n", e.what());
    return 1;
  }
  return 0;
}
