// SPDX-License-Identifier: Apache-2.0
// Wiring of the `http:` section for `run`: the intake, the metrics observer, the server with
// its routes: the receiver, /metrics, /healthz, /readyz and the dashboard's pages (behind
// http.users when set). Further routes register on `server` with server.get(path, handler)
// before start_http_side() starts it: pass them in `extra_routes`.
#pragma once

#include <functional>
#include <memory>

#include "../app.hpp"

#if TLSRPT_HAVE_HTTP
#include "tlsrpt/collector/intake.hpp"
#include "tlsrpt/dashboard/site.hpp"
#include "tlsrpt/http/metrics.hpp"
#include "tlsrpt/http/server.hpp"

namespace tlsrpt::app {

// The explanations the pages show: insight's, the ones `summary` prints (report.cpp).
dashboard::explainer dashboard_explainer();

struct http_side {
  std::unique_ptr<http::metrics> metrics;  // also the pipeline's observer
  std::unique_ptr<collector::intake> intake;
  std::unique_ptr<dashboard::monitor_snapshot> findings;  // the pages' findings and readiness
  std::unique_ptr<dashboard::site> dashboard;
  std::unique_ptr<http::server> server;
  ~http_side();  // the server stops before the intake it feeds goes away
};

// Builds and starts what `http:` configures; nullptr when the section is absent. Throws
// failure (78) for unreadable TLS files, http::error (69) when a listen address is refused.
std::unique_ptr<http_side> start_http_side(
    context& ctx, const std::function<void(http::server&)>& extra_routes = {});

}  // namespace tlsrpt::app
#endif
