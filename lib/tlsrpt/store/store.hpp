// SPDX-License-Identifier: Apache-2.0
// The report store interface. The collector talks to this; the PostgreSQL implementation
// lives in pg_store.hpp. No libpqxx type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tlsrpt/report/report.hpp"

namespace tlsrpt::store {

// How one message ended. RFC-free vocabulary of the ledger (tlsrpt.messages.outcome).
enum class outcome { stored, duplicate, conflict, not_a_report, rejected, skipped };
std::string_view to_string(outcome o) noexcept;

// Where a message came from. For IMAP: source = mailbox name from the config, folder, and
// the UIDVALIDITY/UID pair. For files and stdin: source = "file"/"stdin", folder = path or "",
// and no UIDs; the message digest identifies it.
struct message_key {
  std::string source;
  std::string folder;
  std::optional<std::uint32_t> uidvalidity;
  std::optional<std::uint32_t> uid;
  std::string sha256;  // hex SHA-256 of the raw message bytes
};

struct message_facts {
  message_key key;
  std::optional<std::string> message_id;
  std::optional<std::string> from;
  std::optional<std::string> subject;
  std::optional<std::string> submitter;  // TLS-Report-Submitter, else the From domain
  std::optional<std::string> date;       // RFC 3339 from the Date header
  std::uint64_t size = 0;
};

struct report_input {
  report::report parsed;
  std::string raw_json;  // the decompressed JSON as received
};

// One message to record. kind says what became of it before the store: reports parsed,
// not a report, or rejected (broken/unparseable, with error).
struct message_input {
  message_facts facts;
  outcome kind = outcome::stored;  // stored (= has reports), not_a_report, rejected, skipped
  std::vector<report_input> reports;
  std::string error;  // for rejected/skipped/not_a_report: the reason
};

struct message_result {
  outcome result = outcome::stored;      // stored, duplicate, conflict, not_a_report, rejected...
  std::vector<std::int64_t> report_ids;  // tlsrpt.reports.id of each report (new or existing)
  std::string detail;                    // e.g. what conflicted
};

// A failure of the store itself (not of a message). `transient()` is true when retrying later
// may succeed (connection lost, server shutting down, serialization failure).
class error : public std::runtime_error {
 public:
  error(const std::string& what, std::string sqlstate, bool transient)
      : std::runtime_error(what), sqlstate_(std::move(sqlstate)), transient_(transient) {}
  // With the name of the statement that failed ("insert_reports", "migration 0002_views.sql").
  error(const std::string& what, std::string sqlstate, bool transient, std::string statement)
      : std::runtime_error(what),
        sqlstate_(std::move(sqlstate)),
        statement_(std::move(statement)),
        transient_(transient) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  const std::string& statement() const noexcept { return statement_; }
  bool transient() const noexcept { return transient_; }

 private:
  std::string sqlstate_;
  std::string statement_;
  bool transient_;
};

class report_store {
 public:
  virtual ~report_store() = default;
  report_store() = default;
  report_store(const report_store&) = delete;
  report_store& operator=(const report_store&) = delete;

  // Which of these UIDs of (source, folder, uidvalidity) the ledger already has as done
  // (any final outcome). Used to acknowledge without re-parsing.
  virtual std::vector<std::uint32_t> done_uids(const std::string& source, const std::string& folder,
                                               std::uint32_t uidvalidity,
                                               std::span<const std::uint32_t> uids) = 0;

  // The same UIDs with the outcome the ledger recorded for each, so that a message found done
  // (a crash between commit and acknowledgement, or not-a-report mail left in the folder) is
  // acknowledged the way it would have been, without fetching it again. `result` is nullopt
  // when the store cannot tell; the collector then re-reads the message to classify it (never
  // writing it twice). This default costs correctness nothing, only speed: override it.
  struct done_message {
    std::uint32_t uid = 0;
    std::optional<outcome> result;
  };
  virtual std::vector<done_message> done_messages(const std::string& source,
                                                  const std::string& folder,
                                                  std::uint32_t uidvalidity,
                                                  std::span<const std::uint32_t> uids) {
    std::vector<done_message> out;
    for (const std::uint32_t uid : done_uids(source, folder, uidvalidity, uids)) {
      out.push_back({uid, std::nullopt});
    }
    return out;
  }

  // Writes a batch of messages in one transaction, one savepoint per message: each message's
  // report rows and its ledger row commit together, and one failing message does not undo
  // its neighbours (its result is `rejected` with the error). Returns one result per input,
  // in order. Throws store::error when the transaction as a whole cannot commit.
  virtual std::vector<message_result> write(std::span<const message_input> batch) = 0;

  // Counts a failed processing attempt of a message that must be retried later (transient
  // failure). Returns the attempts so far, so the caller can quarantine a poison message.
  virtual int record_attempt(const message_key& key, const std::string& error) = 0;

  // Claims one mailbox folder for a pass, so that two collectors started at once (a cron
  // overlap) do not both work through it. False when another process holds it. The claim
  // ends with unlock_mailbox() or when the store's connection ends. A store shared by one
  // process only needs no lock: the default always succeeds.
  virtual bool try_lock_mailbox(const std::string& source, const std::string& folder) {
    (void)source;
    (void)folder;
    return true;
  }
  virtual void unlock_mailbox(const std::string& source, const std::string& folder) noexcept {
    (void)source;
    (void)folder;
  }
};

}  // namespace tlsrpt::store
