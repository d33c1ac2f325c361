// SPDX-License-Identifier: Apache-2.0
// A real server on loopback (a free port) feeding the real intake and PostgreSQL, and the
// clients the tests drive it with: curl for ordinary requests, tests/http/client.py for the
// odd ones, psql to look at what was stored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "support/support.hpp"
#include "tlsrpt/collector/intake.hpp"
#include "tlsrpt/http/metrics.hpp"
#include "tlsrpt/http/server.hpp"

namespace tlsrpt::test::http {

std::string quote(const std::string& s);  // for the shell

struct live_server {
  // `database_url`: where the intake writes (default: the scratch database itself; a test
  // that takes the database away passes a proxy's URL).
  explicit live_server(tlsrpt::http::options opts = small_options(),
                       const std::string& database_url = "");
  ~live_server();

  static tlsrpt::http::options small_options();

  std::uint16_t port() const;
  std::string base() const;  // http://127.0.0.1:PORT

  // psql -Atc on the scratch database; trailing newline dropped.
  std::string sql(const std::string& query) const;
  // curl with these arguments, prints "<code> <body>"; status of curl in .status.
  run_result curl(const std::string& args) const;
  // tests/http/client.py with these arguments.
  run_result client(const std::string& args) const;

  scratch_database db;
  std::string url;  // the migrated scratch database
  tlsrpt::http::metrics metrics{"test"};
  std::unique_ptr<collector::intake> intake;
  std::unique_ptr<tlsrpt::http::server> server;
  std::filesystem::path dir;  // a scratch directory for request bodies
};

std::string client_script();

}  // namespace tlsrpt::test::http
