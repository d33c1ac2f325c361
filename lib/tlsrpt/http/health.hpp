// SPDX-License-Identifier: Apache-2.0
// GET /healthz (the process answers) and GET /readyz (it can do its work: the database is
// reachable and no mailbox has failed its last passes), each 200 or 503 with one line.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace tlsrpt::http {

class server;
class metrics;

struct health_options {
  // Connects to the database: nullopt when it answers, else why not. Called at most once per
  // `cache` however often /readyz is asked (a load balancer may ask every second).
  std::function<std::optional<std::string>()> check_database;
  std::chrono::milliseconds cache = std::chrono::seconds(2);
  int mailbox_failure_threshold = 3;  // passes in a row that make a mailbox "failing"
};

// Registers GET /healthz and GET /readyz. `m` must outlive the server.
void add_health_endpoints(server& s, const metrics& m, health_options opts);

}  // namespace tlsrpt::http
