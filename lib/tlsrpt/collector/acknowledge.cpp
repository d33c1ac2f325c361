// SPDX-License-Identifier: Apache-2.0
// How a pass acknowledges what it committed, once it knows the folder (issue 23): the actions
// as configured, or, on a folder that keeps no keywords of ours, \Seen plus the ledger.
#include <string>
#include <vector>

#include "tlsrpt/collector/collector.hpp"

namespace tlsrpt::collector {

namespace {
constexpr const char* seen_flag = "\\Seen";
}  // namespace

std::vector<std::string> search_exclusions(const mailbox_options& opts) {
  // A class acknowledged by keyword stays in the folder, so the search must skip it. A class
  // that is moved away leaves nothing behind; if some of its messages are still here (a crash
  // after commit, or the action was changed from keyword to move), finding them again is what
  // we want: the ledger knows them, and they are moved without a second write.
  std::vector<std::string> out;
  if (opts.on_success.how == action::keyword) out.push_back(opts.processed_keyword);
  if (opts.on_failure.how == action::keyword) out.push_back(opts.failed_keyword);
  return out;
}

acknowledgement_plan plan_acknowledgement(const mailbox_options& opts,
                                          const imap::folder_state& folder) {
  acknowledgement_plan p;
  p.on_success = opts.on_success;
  p.on_failure = opts.on_failure;
  p.on_not_a_report = opts.on_not_a_report;
  p.success_flags = {opts.processed_keyword, seen_flag};
  p.failure_flags = {opts.failed_keyword};
  p.search_exclusions = search_exclusions(opts);
  // RFC 3501 §7.1: a keyword missing from PERMANENTFLAGS (no \* there) is dropped at the end
  // of the session, or at once: Microsoft 365 lists no \* (Exchange Online keeps no keywords
  // of its clients), and neither does a Cyrus folder where we lack the `w` right (the harness
  // tests that one). Searching for a keyword that never sticks would find every message again
  // and again, each one a ledger lookup, so we stop relying on it: a stored report is marked
  // \Seen where the folder keeps \Seen, and the ledger, which knows every message by
  // UIDVALIDITY and UID, says what is done. A `move` action needs no keyword and is unchanged.
  const bool success_kw = opts.on_success.how == action::keyword;
  const bool failure_kw = opts.on_failure.how == action::keyword;
  const bool keeps_processed = folder.keeps(opts.processed_keyword);
  const bool keeps_failed = folder.keeps(opts.failed_keyword);
  if ((success_kw && !keeps_processed) || (failure_kw && !keeps_failed)) {
    p.keywords_kept = false;
    p.search_exclusions.clear();
    if (success_kw && keeps_processed) p.search_exclusions.push_back(opts.processed_keyword);
    if (failure_kw && keeps_failed) p.search_exclusions.push_back(opts.failed_keyword);
    if (success_kw && !keeps_processed) {
      p.success_flags.clear();
      if (folder.keeps(seen_flag)) p.success_flags.push_back(seen_flag);
    }
    if (failure_kw && !keeps_failed) p.failure_flags.clear();
    p.fallback =
        "the folder keeps no new keywords (no \\* in its PERMANENTFLAGS), so " +
        std::string(success_kw && !keeps_processed
                        ? (p.success_flags.empty() ? "stored reports are left as they are"
                                                   : "stored reports are marked \\Seen only")
                        : "stored reports get their keyword") +
        (failure_kw && !keeps_failed ? ", failed ones are left as they are" : "") +
        ", and the ledger tells which messages are done (every pass looks at the whole "
        "folder; actions: move keeps it small)";
  } else if (success_kw && !folder.keeps(seen_flag)) {
    p.success_flags = {opts.processed_keyword};
  }
  return p;
}

}  // namespace tlsrpt::collector
