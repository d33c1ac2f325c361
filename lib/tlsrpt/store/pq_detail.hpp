// SPDX-License-Identifier: Apache-2.0
// Internal to the store module (includes libpqxx): error translation shared by pg_store.cpp
// and migrate.cpp, and the connection the readers (pg_dashboard, pg_monitor) share the
// handling of. Not part of the public interface.
#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/store/pg_store.hpp"
#include "tlsrpt/store/store.hpp"

namespace tlsrpt::store::detail {

// True when retrying later may succeed, so the caller must leave its mail untouched:
// connection trouble (class 08), serialization failure and deadlock (40001, 40P01),
// resources (53: disk full, out of memory, too many connections), operator intervention
// (57: shutdown, statement timeout, cannot connect now), system I/O errors (58), a lock
// not available (55P03) and a read-only database (25006: a standby or
// default_transaction_read_only, which an operator will fix).
bool transient_sqlstate(std::string_view sqlstate) noexcept;

// True when the error is the fault of the data being written (one message), not of the
// database: data exceptions (22), integrity violations (23), program limits (54) and a
// statement touching one row twice (21000, the same message twice in one batch).
bool message_fault(std::string_view sqlstate) noexcept;

// The SQLSTATE of a connection failure that retrying cannot fix, read off libpq's message
// (wrong password 28P01, unknown role or pg_hba.conf 28000, no such database 3D000, no CONNECT
// privilege 42501, malformed connection string 22023); "" for refused, unreachable, timed out.
std::string connect_failure_sqlstate(std::string_view message);

// Translates the exception in flight into store::error: "store: cannot <doing>: <cause>".
// Call only from inside a catch block.
[[noreturn]] void rethrow(std::string_view doing, std::string_view statement);

// The server's message without libpq's trailing newline and "ERROR:  " prefix.
std::string clean_message(std::string_view what);

// A text[] field as strings (NULL: empty).
std::vector<std::string> parse_text_array(const pqxx::field& f);

// The columns of tlsrpt.sts_readiness_at() that readiness_of() reads, in its order.
inline constexpr const char* readiness_columns =
    "policy_domain, verdict, reasons, reporters, sessions, failed_sessions,"
    " blocking_failed_sessions, blocking_failure_rate, blocking_result_types, sts_mode,"
    " min_days, observed_days, min_reporters, recent_blocking_failed_sessions,"
    " last_blocking_failure::text, missing";
sts_readiness readiness_of(const pqxx::row& r);

// One connection, opened on first use and again after it broke, with the name of the statement
// in hand for the error text. guarded() turns any failure into store::error ("store: cannot
// <doing>: <cause> (SQLSTATE, in statement)") and drops the connection when the cause may
// pass, so the next call reconnects.
struct lazy_connection {
  std::string url;
  std::unique_ptr<pqxx::connection> conn;
  std::string statement;

  pqxx::connection& connection() {
    if (conn && !conn->is_open()) conn.reset();
    if (!conn) {
      statement = "connect";
      auto c = std::make_unique<pqxx::connection>(url);
      c->set_client_encoding("UTF8");
      conn = std::move(c);
    }
    return *conn;
  }

  template <typename... Args>
  pqxx::result exec(pqxx::transaction_base& tx, const char* name, const std::string& sql,
                    Args&&... args) {
    statement = name;
    return tx.exec_params(sql, std::forward<Args>(args)...);
  }

  template <typename F>
  auto guarded(std::string_view doing, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (...) {
      try {
        rethrow(doing, statement);
      } catch (const error& e) {
        if (e.transient()) conn.reset();
        throw;
      }
    }
  }
};

}  // namespace tlsrpt::store::detail
