// SPDX-License-Identifier: Apache-2.0
// The pipeline: source -> extract -> parse -> store -> acknowledge. The collector talks only to
// the interfaces imap::mailbox and store::report_store, so it is tested with fakes of both as
// well as against the real servers.
//
// The guarantee it upholds (issue 8): a message is acknowledged (flagged, moved) only after the
// transaction that records it has committed, so a crash at any point leaves it either
// unacknowledged (fetched again next pass; the ledger or the report identity makes the second
// write harmless) or committed and acknowledged. Fetching is at least once, counting exactly
// once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlsrpt/collector/events.hpp"
#include "tlsrpt/imap/mailbox.hpp"
#include "tlsrpt/mime/extract.hpp"
#include "tlsrpt/report/report.hpp"
#include "tlsrpt/store/store.hpp"

namespace spdlog {
class logger;
}

namespace tlsrpt::collector {

// ---------------------------------------------------------------------------------------------
// One message

struct processing_limits {
  mime::limits mime;
  report::parse_limits report;
};

// Turns one raw RFC 5322 message into what the store records. Never throws for bad input:
//  - reports found and all parse: kind `stored` with one report_input per report;
//  - not a report: kind `not_a_report`, error = why;
//  - a broken report part ("mime: ...") or a report that does not parse ("report: <path>: ...")
//    : kind `rejected`, error = that exact text. A message carrying several reports of which one
//    is bad is rejected as a whole (error prefixed "report 2 of 3: "): storing half of a message
//    would make "re-process after an upgrade" store the other half later under the same
//    ledger row, and a sender that breaks one report is rare enough to want a human's look.
// key.sha256 is filled in when empty. submitter = TLS-Report-Submitter, else the From domain.
store::message_input process_message(std::string_view raw, store::message_key key,
                                     const processing_limits& limits = {});

// The same for input of unknown kind (a file, stdin): a whole message, bare JSON or gzip.
store::message_input process_any(std::string_view raw, store::message_key key,
                                 const processing_limits& limits = {});

struct ingest_result {
  store::outcome result = store::outcome::stored;  // as the store recorded it
  std::vector<std::int64_t> report_ids;            // tlsrpt.reports.id of each report
  std::vector<std::string> report_names;           // the reports' own report-id
  std::string error;                               // why not a report / why rejected
};

// One message from a file or stdin (`tlsrpt-collector ingest`): the same extraction, parsing,
// store and ledger rules as IMAP, without a mailbox. Throws store::error when the store cannot
// commit (the CLI's exit 75, so an MTA retries).
ingest_result ingest_message(std::string_view raw, store::message_key key,
                             store::report_store& store, const processing_limits& limits = {},
                             const std::shared_ptr<spdlog::logger>& log = nullptr,
                             observer* events = nullptr);

// ---------------------------------------------------------------------------------------------
// One pass over a mailbox

// What becomes of a message once its outcome has committed.
enum class action {
  keyword,  // add a keyword (success: `processed_keyword` and \Seen; failure: `failed_keyword`)
  move,     // move to `folder` (created if missing)
  leave     // nothing (the fetch is BODY.PEEK[]: the message keeps exactly its flags)
};

struct disposition {
  action how = action::keyword;
  std::string folder;  // the target when how == move
};

struct mailbox_options {
  std::string name = "default";  // the ledger's source: the mailbox name from the config
  std::string folder = "INBOX";
  disposition on_success{action::keyword, {}};     // stored / duplicate / conflict
  disposition on_failure{action::keyword, {}};     // rejected / skipped (oversized) / quarantined
  disposition on_not_a_report{action::leave, {}};  // ordinary mail in the report inbox
  std::string processed_keyword = "$TLSRPTProcessed";
  std::string failed_keyword = "$TLSRPTFailed";
  std::size_t batch_size = 1000;  // messages fetched, written and acknowledged together
  std::uint64_t max_message_bytes = 25u * 1024u * 1024u;  // larger ones are never downloaded
  int max_attempts = 5;  // a message whose processing throws is quarantined after this many
  // A batch also ends once its processed messages hold about this much memory (the JSON and
  // its parsed model), so a huge report goes alone and a pass's memory stays bounded whatever
  // the mail holds (issue 15). The first message of a batch is always taken.
  std::size_t batch_bytes = 16u * 1024u * 1024u;
  // The store write of batch k runs on a second thread while batch k+1 is fetched; batch k is
  // still acknowledged only after its commit, from the thread that owns the connection. Off:
  // fetch, write and acknowledge strictly one after the other (same commands, same outcome).
  bool overlap_writes = true;
  // A large backlog is marked read and acknowledged in at most about this many groups of
  // batches per pass instead of once per batch (0: once per batch). Each flag command makes
  // a Maildir server (Dovecot) rename files and rescan the whole folder, so one per batch
  // would make a pass cost grow with the square of the backlog. Writes stay one transaction
  // per batch; a group's acknowledgement comes after the commit of its last batch, and a pass
  // that dies leaves the group's committed messages to the ledger (acknowledged, not written,
  // on the next pass). With backlogs up to batch_size * flag_groups nothing changes.
  std::size_t flag_groups = 10;
  processing_limits limits;
};

// The keywords the UID SEARCH excludes: those of the outcome classes acknowledged by keyword.
// With every class moved away, nothing is excluded (everything left in the folder is new).
std::vector<std::string> search_exclusions(const mailbox_options& opts);

// How a pass acknowledges on the folder it selected: the configured actions, or, where the
// folder keeps no new keywords (no `\*` in PERMANENTFLAGS: Microsoft 365; a Cyrus folder
// without the `w` right), \Seen on stored reports and the ledger to tell what is done.
struct acknowledgement_plan {
  disposition on_success, on_failure, on_not_a_report;
  std::vector<std::string> success_flags;      // added to stored reports (action keyword)
  std::vector<std::string> failure_flags;      // added to failed messages (action keyword)
  std::vector<std::string> search_exclusions;  // keywords the UID SEARCH leaves out
  bool keywords_kept = true;                   // false: the fallback is in use
  std::string fallback;  // what is done instead, for the log and check-config; "" when none
};
acknowledgement_plan plan_acknowledgement(const mailbox_options& opts,
                                          const imap::folder_state& folder);

struct pass_stats {
  std::size_t found = 0;         // unhandled messages the search returned
  std::size_t stored = 0;        // new reports
  std::size_t duplicate = 0;     // reports the store already had
  std::size_t conflict = 0;      // same report-id, different content
  std::size_t not_a_report = 0;  // ordinary mail
  std::size_t rejected = 0;      // broken reports (and quarantined poison messages)
  std::size_t skipped = 0;       // over the size limit, not downloaded
  std::size_t already_done = 0;  // in the ledger already: acknowledged without a write
  std::size_t deferred = 0;      // processing threw: left for the next pass
  std::size_t quarantined = 0;   // of `rejected`: processing threw max_attempts times
  std::size_t batches = 0;       // store writes
  bool stopped = false;          // the stop flag ended the pass early (after its batch)
  bool locked_out = false;       // another collector was polling this folder: pass skipped
  std::chrono::milliseconds duration{0};

  pass_stats& operator+=(const pass_stats& o);
};

// What a mailbox pass remembers between passes (the daemon keeps one per mailbox).
struct mailbox_state {
  std::optional<std::uint32_t> uidvalidity;
  bool fallback_logged = false;  // the acknowledgement fallback was logged (once)
};

// The pieces of message handling the pass uses. The default is process_message() and the
// real SHA-256; tests replace it.
struct message_pipeline {
  std::function<std::string(std::string_view raw)> digest;  // hex SHA-256 of the raw message
  std::function<store::message_input(std::string_view raw, const store::message_key& key,
                                     const processing_limits& limits)>
      process;                 // fills in key.sha256 itself
  observer* events = nullptr;  // told of every committed message, pass and store failure
};
message_pipeline default_pipeline();

// One pass over one mailbox folder (issue 6, "One pass over a mailbox"). Throws imap::error or
// store::error when the pass cannot go on (server or database gone, login refused): what was
// committed is acknowledged as far as the connection allowed, everything else stays untouched
// for the next pass. `state` (optional) carries UIDVALIDITY across passes to log a change.
pass_stats poll_mailbox(imap::mailbox& mb, store::report_store& store, const mailbox_options& opts,
                        const std::atomic<bool>& stop,
                        const std::shared_ptr<spdlog::logger>& log = nullptr,
                        mailbox_state* state = nullptr);
pass_stats poll_mailbox(imap::mailbox& mb, store::report_store& store, const mailbox_options& opts,
                        const std::atomic<bool>& stop, const message_pipeline& pipeline,
                        const std::shared_ptr<spdlog::logger>& log = nullptr,
                        mailbox_state* state = nullptr);

// ---------------------------------------------------------------------------------------------
// Every mailbox: one-shot (`poll`) and daemon (`run`)

struct mailbox_job {
  mailbox_options options;
  std::size_t config_index = 0;  // for the connect function: which configured mailbox this is
};

using connect_fn = std::function<std::unique_ptr<imap::mailbox>(const mailbox_job&)>;
using open_store_fn = std::function<std::unique_ptr<store::report_store>()>;

struct mailbox_result {
  std::string name;
  pass_stats stats;
  std::optional<std::string> error;  // set when the pass failed
  bool transient = false;            // the failure may go away (network, database down)
  bool store_failure = false;        // the failure was the store's
};

struct poll_summary {
  pass_stats total;
  std::vector<mailbox_result> mailboxes;
  std::size_t failed = 0;  // mailboxes whose pass failed
  bool stopped = false;
};

// One pass over every mailbox, one after the other; a failing mailbox does not stop the others.
// The store is opened once and reopened after it fails.
poll_summary poll_once(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
                       const open_store_fn& open_store, const std::atomic<bool>& stop,
                       const std::shared_ptr<spdlog::logger>& log = nullptr);
// Same, with a replaceable message pipeline (tests).
poll_summary poll_once(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
                       const open_store_fn& open_store, const std::atomic<bool>& stop,
                       const message_pipeline& pipeline,
                       const std::shared_ptr<spdlog::logger>& log = nullptr);

// What waiting on an open mailbox ended with (IDLE, RFC 2177).
enum class wake {
  changed,     // new mail (or expunges): a pass now
  timeout,     // `until` came: the caller re-issues the wait or runs its pass
  stopped,     // the stop flag: the wait ended cleanly (DONE answered)
  unsupported  // the server has no IDLE: the caller falls back to polling
};
// Waits on `mb` (selected by the pass before) until it changes, `until` passes or `stop` is
// set. Throws imap::error when the connection fails.
using wait_fn = std::function<wake(imap::mailbox& mb, std::chrono::steady_clock::time_point until,
                                   const std::atomic<bool>& stop)>;

struct daemon_options {
  std::chrono::milliseconds interval = std::chrono::minutes(5);
  std::chrono::milliseconds jitter = std::chrono::seconds(30);  // up to this much added per pass
  std::chrono::milliseconds initial_backoff = std::chrono::seconds(15);  // after a first failure
  std::chrono::milliseconds max_backoff = std::chrono::hours(1);         // doubling stops here
  // How often a sleep looks at the stop flag: SIGTERM is answered within about this long
  // (plus the message in hand).
  std::chrono::milliseconds stop_check = std::chrono::milliseconds(100);
  // Set: IDLE between passes (`daemon.idle`). Each mailbox then has a thread and one
  // connection that it keeps between passes and waits on with `wait`; new mail starts a pass
  // at once, and a full pass still runs every interval. A server without IDLE is polled.
  wait_fn wait;
  // RFC 2177 §3: a client re-issues IDLE at least every 29 minutes, before servers drop it.
  std::chrono::milliseconds idle_reissue = std::chrono::minutes(29);
  // Another collector held the mailbox when new mail woke us: its pass may have begun before
  // the mail came, so try again after this long (doubling, up to the interval).
  std::chrono::milliseconds lock_retry = std::chrono::seconds(2);
  // When set and true (SIGHUP), run_daemon returns after the pass in hand, so the caller can
  // read its configuration again and call it anew.
  const std::atomic<bool>* reload = nullptr;
};

// The daemon: polls every mailbox every interval (plus jitter), forever, until `stop` is set
// (by the signal handler); with opts.wait, waits in IDLE between passes (see daemon_options). A
// failed pass is logged and retried after an exponential backoff, per mailbox, bounded by
// max_backoff; the others go on. The store is reopened after it fails. Returns 0 once stopped.
int run_daemon(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
               const open_store_fn& open_store, const daemon_options& opts,
               const std::atomic<bool>& stop, const std::shared_ptr<spdlog::logger>& log = nullptr);
int run_daemon(const std::vector<mailbox_job>& jobs, const connect_fn& connect,
               const open_store_fn& open_store, const daemon_options& opts,
               const std::atomic<bool>& stop, const message_pipeline& pipeline,
               const std::shared_ptr<spdlog::logger>& log = nullptr);

// The wait after `failures` consecutive failed passes (1, 2, ...): initial_backoff doubled per
// failure, never more than max_backoff.
std::chrono::milliseconds backoff_delay(const daemon_options& opts, int failures);

}  // namespace tlsrpt::collector
