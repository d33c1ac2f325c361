// SPDX-License-Identifier: Apache-2.0
// `ingest PATH...|-`: reports from local files and stdin, with the same store, ledger and
// identity rules as IMAP. Built for `|tlsrpt-collector ingest -` in an MTA's aliases: the exit
// code tells the MTA whether to bounce (65), retry (75) or consider the mail delivered (0).
#include <spdlog/spdlog.h>

#include <iostream>

#include "../app.hpp"
#include "limits.hpp"
#include "tlsrpt/source/source.hpp"
#if TLSRPT_HAVE_COLLECTOR && TLSRPT_HAVE_STORE
#include "tlsrpt/collector/collector.hpp"
#include "tlsrpt/store/pg_store.hpp"
#endif

namespace tlsrpt::app {

int cmd_ingest(context& ctx, const ingest_args& a) {
#if TLSRPT_HAVE_COLLECTOR && TLSRPT_HAVE_STORE && TLSRPT_HAVE_MIME && TLSRPT_HAVE_REPORT
  const auto& c = ctx.cfg();
  auto log = ctx.log();
  const std::string url = ctx.database_url();
  ctx.migrate_if_configured();
  store::pg_store db(url);
  const auto pl = processing_limits_of(c.lim);
  collector::processing_limits lim;
  lim.mime = pl.mime;
  lim.report = pl.report;

  std::size_t counts[6] = {};
  std::size_t oversized = 0;
  source::options so;
  so.max_size = c.lim.max_message_size;
  so.warn = [&log](const std::string& w) { log->warn("{}", w); };
  source::walk(a.inputs, so, [&](source::item&& it) {
    if (ctx.stop().load()) return;
    if (it.oversized) {
      // Not recorded in the ledger: the bytes were not kept, so there is no digest to key it.
      log->error("{}: rejected: larger than limits.max_message_size ({} bytes)", it.origin(),
                 so.max_size);
      ++oversized;
      return;
    }
    store::message_key key;
    key.source = it.from == source::kind::stdin_ ? "stdin" : "file";
    key.folder = it.from == source::kind::stdin_ ? "" : it.origin();
    // store::error propagates: the database is the problem, not this message (exit 75/69).
    const auto r = collector::ingest_message(it.bytes, key, db, lim, log);
    ++counts[static_cast<std::size_t>(r.result)];
  });

  const auto n = [&](store::outcome o) { return counts[static_cast<std::size_t>(o)]; };
  const std::size_t rejected = n(store::outcome::rejected) + oversized;
  log->info("ingest done: {} stored, {} duplicate, {} conflict, {} not_a_report, {} rejected{}",
            n(store::outcome::stored), n(store::outcome::duplicate), n(store::outcome::conflict),
            n(store::outcome::not_a_report), rejected,
            ctx.stop().load() ? " (stopped by signal)" : "");
  if (ctx.stop().load()) return exit_code::temporary;
  return rejected > 0 ? exit_code::data : exit_code::ok;
#else
  (void)ctx;
  (void)a;
  throw failure(exit_code::unavailable,
                "ingest: not available: this build lacks the collector, store, mime or report "
                "module");
#endif
}

}  // namespace tlsrpt::app
