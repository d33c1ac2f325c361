// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL implementation of report_store, the schema migrations and the queries the
// command line needs (summary, prune, reprocess, connection check). libpqxx stays inside
// pg_store.cpp: no pqxx type appears here. The schema is documented in docs/schema.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tlsrpt/digest/sha256.hpp"
#include "tlsrpt/store/store.hpp"

namespace tlsrpt::store {

// ---- Migrations ------------------------------------------------------------------------

struct migration {
  int version = 0;       // the number the file name starts with
  std::string name;      // the file name, "0001_init.sql"
  std::string checksum;  // hex SHA-256 of the file's bytes
  std::filesystem::path path;
};

// Where the migrations are looked for, in order: $TLSRPT_MIGRATIONS_DIR,
// <dir of the executable>/../share/tlsrpt-collector/migrations, the install directory
// compiled in, and the source tree's migrations/.
std::vector<std::filesystem::path> migration_dirs();
// The first of migration_dirs() that holds at least one migration. Throws store::error.
std::filesystem::path find_migrations_dir();
// The migrations in a directory, sorted by version. Throws store::error on a bad file name
// or two files with one version.
std::vector<migration> load_migrations(const std::filesystem::path& dir);

struct migrate_options {
  std::optional<std::filesystem::path> dir;  // default: find_migrations_dir()
  std::optional<int> up_to;                  // apply only versions <= this (tests, staging)
};

// Applies the pending migrations in order, each in its own transaction, under an advisory
// lock so that concurrent callers queue up. Returns the migrations it applied (empty when
// the schema was current). Throws store::error when an applied migration's file changed,
// when the database has a migration this program does not know, or on a database error.
std::vector<migration> migrate(const std::string& url, const migrate_options& options = {});

// ---- Connection check (check-config --connect) -----------------------------------------

struct connection_info {
  std::string server_version;  // "15.18"
  std::string database;
  std::string user;
  int schema_version = 0;    // highest applied migration, 0 when none
  int latest_migration = 0;  // highest migration this program ships (0 if none found)
  bool can_write = false;    // INSERT privilege on tlsrpt.reports
};
// Connects and reads the facts above. Throws store::error (transient() for connection
// failures).
connection_info check_connection(const std::string& url);

// ---- Summary (the `summary` command) ---------------------------------------------------

struct summary_options {
  int days = 30;                      // window: reports whose date_end lies in the last N days
  std::optional<std::string> domain;  // only this policy domain
  int top_failures = 10;              // how many failure rows to return
  double threshold = 0.001;           // STS readiness: blocking failure share that fails it
  int min_days = 14;                  // STS readiness: days of reports in testing mode
  int min_reporters = 2;
  int quiet_days = 3;  // STS readiness: no blocking failure in the last this many days
};

struct domain_summary {
  std::optional<std::string> policy_domain;  // nullopt: reports without a domain (Postfix)
  std::vector<std::string> reporters;        // sorted
  std::int64_t reports = 0;
  std::int64_t sessions = 0;
  std::int64_t successful_sessions = 0;
  std::int64_t failed_sessions = 0;
  double failure_rate = 0;  // failed / sessions, 0 when no sessions
};

struct failure_summary {
  std::optional<std::string> policy_domain;
  std::string result_type;  // RFC 8460 token as sent
  std::optional<std::string> receiving_mx_hostname;
  std::optional<std::string> receiving_ip;
  std::int64_t failed_sessions = 0;
  std::int64_t reporters = 0;  // how many reporters saw it
};

enum class verdict { ready, not_ready, no_data };
std::string_view to_string(verdict v) noexcept;  // "ready", "not-ready", "no-data"

struct sts_readiness {
  std::string policy_domain;
  verdict result = verdict::no_data;
  std::vector<std::string> reasons;  // empty when ready
  std::int64_t reporters = 0;
  std::int64_t sessions = 0;
  std::int64_t failed_sessions = 0;
  std::int64_t blocking_failed_sessions = 0;  // what enforce would have refused
  double blocking_failure_rate = 0;
  std::vector<std::string> blocking_result_types;
  std::optional<std::string> sts_mode;  // latest mode seen: testing, enforce, none
  // The rule over time (0005, tlsrpt.sts_readiness_at): how far the domain is.
  int min_days = 0;       // days of reports in testing mode needed
  int observed_days = 0;  // days seen so far ("9 of 14 days")
  int min_reporters = 0;
  std::int64_t recent_blocking_failed_sessions = 0;  // in the last quiet_days days
  std::optional<std::string> last_blocking_failure;  // UTC day, YYYY-MM-DD
  // Keys of the unmet conditions: sts-policy, days, reporters, failure-rate, recent-failures.
  std::vector<std::string> missing;
};

struct summary {
  int days = 30;
  std::vector<domain_summary> domains;        // by sessions, descending
  std::vector<failure_summary> top_failures;  // by failed sessions, descending
  std::vector<sts_readiness> readiness;       // by policy domain
};

// ---- Reprocess ---------------------------------------------------------------------------

struct reprocess_options {
  std::optional<std::string> source;  // only this mailbox / source
  bool include_skipped = false;       // also oversized (skipped) messages
};

// ---- The store ---------------------------------------------------------------------------

class pg_store final : public report_store {
 public:
  // Connects lazily: the first call connects, and a call after a lost connection reconnects.
  explicit pg_store(std::string url);
  ~pg_store() override;

  std::vector<std::uint32_t> done_uids(const std::string& source, const std::string& folder,
                                       std::uint32_t uidvalidity,
                                       std::span<const std::uint32_t> uids) override;
  std::vector<done_message> done_messages(const std::string& source, const std::string& folder,
                                          std::uint32_t uidvalidity,
                                          std::span<const std::uint32_t> uids) override;
  std::vector<message_result> write(std::span<const message_input> batch) override;
  int record_attempt(const message_key& key, const std::string& error) override;
  // A session-level advisory lock per (source, folder): it ends with the connection, so a
  // killed collector never leaves a mailbox locked.
  bool try_lock_mailbox(const std::string& source, const std::string& folder) override;
  void unlock_mailbox(const std::string& source, const std::string& folder) noexcept override;

  // Deletes the reports whose date_end is older than the given number of days (with their
  // policies, failure details and conflicts), batch_size reports per transaction. The ledger
  // is kept, so messages still in a mailbox are not ingested again. Returns the count.
  std::int64_t prune(int older_than_days, int batch_size = 1000);

  // Makes `rejected` ledger rows pending again (outcome NULL, attempts 0) so the next pass
  // processes them, and returns their keys so the IMAP side can clear its failure marks.
  std::vector<message_key> reprocess(const reprocess_options& options = {});

  // Per-domain numbers, top failures and the STS verdicts, from the views.
  summary query_summary(const summary_options& options = {});

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// For tests and tools: the SHA-256 (hex) of the canonical form of a report's values, the
// digest that tells a duplicate (same) from a conflict (different). It covers every value
// that is stored, in order, but not the parser's warnings.
std::string content_digest(const report::report& r);
// The reporter part of a report's identity: organization_name, else contact_info, else the
// submitter, else "".
std::string reporter_of(const report::report& r, const std::optional<std::string>& submitter);
// Hex SHA-256 of bytes.
using digest::sha256_hex;

}  // namespace tlsrpt::store
