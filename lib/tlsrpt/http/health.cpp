// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/http/health.hpp"

#include <memory>
#include <mutex>

#include "tlsrpt/http/metrics.hpp"
#include "tlsrpt/http/receiver.hpp"
#include "tlsrpt/http/server.hpp"

namespace tlsrpt::http {

void add_health_endpoints(server& s, const metrics& m, health_options opts) {
  s.get("/healthz", [](const request&) { return response::text(200, "ok"); });

  struct cached {
    std::mutex mutex;
    std::chrono::steady_clock::time_point at{};
    bool valid = false;
    std::optional<std::string> problem;
  };
  auto state = std::make_shared<cached>();
  s.get("/readyz", [&m, opts = std::move(opts), state](const request&) {
    std::optional<std::string> db;
    if (opts.check_database) {
      // One check at a time; the others wait for its answer rather than piling on.
      const std::lock_guard lock(state->mutex);
      const auto now = std::chrono::steady_clock::now();
      if (!state->valid || now - state->at >= opts.cache) {
        state->problem = opts.check_database();
        state->at = now;
        state->valid = true;
      }
      db = state->problem;
    }
    if (db) return response::text(503, "not ready: database: " + one_line(*db));
    const auto failing = m.failing_mailboxes(opts.mailbox_failure_threshold);
    if (!failing.empty()) {
      std::string names;
      for (const auto& [name, n] : failing) {
        names += (names.empty() ? "" : ", ") + name + " (" + std::to_string(n) + " failed passes)";
      }
      return response::text(503, "not ready: mailbox " + one_line(names));
    }
    return response::text(200, "ready");
  });
}

}  // namespace tlsrpt::http
