// SPDX-License-Identifier: Apache-2.0
// `migrate`, `prune` and `reprocess`: maintenance of the database (and, for reprocess, of the
// failure marks in the mailboxes).
#include <spdlog/spdlog.h>

#include <iostream>
#include <map>
#include <tuple>

#include "../app.hpp"
#include "mailboxes.hpp"
#if TLSRPT_HAVE_STORE
#include "tlsrpt/store/pg_store.hpp"
#endif

namespace tlsrpt::app {

#if !TLSRPT_HAVE_STORE
namespace {
[[noreturn]] void no_store(const char* cmd) {
  throw failure(exit_code::unavailable,
                std::string(cmd) + ": not available: this build lacks the store module");
}
}  // namespace
#endif

int cmd_migrate(context& ctx) {
#if TLSRPT_HAVE_STORE
  const auto& c = ctx.cfg();
  store::migrate_options o;
  if (c.db.migrations_dir) o.dir = *c.db.migrations_dir;
  const auto applied = store::migrate(ctx.database_url(), o);
  if (applied.empty()) {
    std::cout << "The database schema is up to date; nothing to apply.\n";
  } else {
    for (const auto& m : applied) std::cout << "applied " << m.name << "\n";
    std::cout << applied.size() << " migration(s) applied.\n";
  }
  return exit_code::ok;
#else
  (void)ctx;
  no_store("migrate");
#endif
}

int cmd_prune(context& ctx, const prune_args& a) {
#if TLSRPT_HAVE_STORE
  store::pg_store db(ctx.database_url());
  const auto n = db.prune(a.older_than_days, a.batch_size);
  std::cout << "Deleted " << n << " report(s) whose period ended more than " << a.older_than_days
            << " day(s) ago.\n";
  return exit_code::ok;
#else
  (void)ctx;
  (void)a;
  no_store("prune");
#endif
}

int cmd_reprocess(context& ctx, const reprocess_args& a) {
#if TLSRPT_HAVE_STORE
  const auto& c = ctx.cfg();
  if (a.mailbox && find_mailbox(c, *a.mailbox) == nullptr)
    throw failure(exit_code::usage,
                  "reprocess: no mailbox named \"" + *a.mailbox + "\" in the configuration");
  store::pg_store db(ctx.database_url());
  store::reprocess_options o;
  o.source = a.mailbox;
  o.include_skipped = a.include_skipped;
  const auto keys = db.reprocess(o);
  std::cout << keys.size() << " message(s) will be processed again on the next pass.\n";

  // IMAP messages still carry the failure keyword, which the pass's search excludes: clear it,
  // per mailbox and folder, for the UIDs whose UIDVALIDITY still matches.
  std::map<std::tuple<std::string, std::string, std::uint32_t>, std::vector<std::uint32_t>> groups;
  for (const auto& k : keys) {
    if (k.uid && k.uidvalidity) groups[{k.source, k.folder, *k.uidvalidity}].push_back(*k.uid);
  }
  int code = exit_code::ok;
  for (const auto& [where, uids] : groups) {
    const auto& [name, folder, uidvalidity] = where;
    const config::mailbox* m = find_mailbox(c, name);
    if (m == nullptr) {
      std::cout << "  " << uids.size() << " message(s) of mailbox \"" << name
                << "\", no longer configured: their failure marks stay.\n";
      continue;
    }
    const std::size_t cleared =
        clear_failure_marks(*m, c.file, folder, uidvalidity, uids, ctx.log(), code);
    std::cout << "  " << name << "/" << folder << ": failure mark cleared on " << cleared << " of "
              << uids.size() << " message(s).\n";
  }
  return code;
#else
  (void)ctx;
  (void)a;
  no_store("reprocess");
#endif
}

}  // namespace tlsrpt::app
