// SPDX-License-Identifier: Apache-2.0
// `check-config [--connect]`: is the file right, are the secrets there, and (with --connect)
// does every server let us in? Says what works and what does not, in that order.
#include <iostream>

#include "../app.hpp"
#include "mailboxes.hpp"
#if TLSRPT_HAVE_IMAP
#include "tlsrpt/imap/profile.hpp"
#endif
#if TLSRPT_HAVE_STORE
#include "tlsrpt/store/pg_store.hpp"
#endif

namespace tlsrpt::app {

namespace {

std::string credentials_of(const config::mailbox& m) {
  if (m.oauth) {
    const auto& o = *m.oauth;
    std::string s = "OAuth2 (" + std::string(config::to_string(o.provider)) + ", " +
                    (o.refresh_grant() ? "refresh-token grant from " + *o.refresh_token_file
                                       : std::string("client-credentials grant")) +
                    ", client " + o.client_id + ", " + o.token_url + ")";
    if (o.client_secret.from == config::secret_ref::kind::env)
      s += ", client secret from $" + o.client_secret.name;
    if (o.client_secret.from == config::secret_ref::kind::file)
      s += ", client secret from " + o.client_secret.name;
    return s;
  }
  const bool env = m.secret.from == config::secret_ref::kind::env;
  if (m.auth == config::auth_method::xoauth2)
    return (env ? "OAuth2 token from $" : "OAuth2 token from ") + m.secret.name;
  return (env ? "password from $" : "password from ") + m.secret.name;
}

// Keeps the worst exit code: configuration problems outrank permission outrank unavailable
// outrank temporary.
void worsen(int& code, int c) {
  auto rank = [](int x) {
    return x == exit_code::config        ? 4
           : x == exit_code::permission  ? 3
           : x == exit_code::unavailable ? 2
           : x == exit_code::temporary   ? 1
                                         : 0;
  };
  if (rank(c) > rank(code)) code = c;
}

}  // namespace

int cmd_check_config(context& ctx, const check_args& a) {
  const auto& c = ctx.cfg();  // a config::error here is the answer: exit 78 with its line
  int code = exit_code::ok;
  std::cout << (c.file.empty() ? std::string("No configuration file: using the defaults.")
                               : "Configuration " + c.file + ": valid.")
            << "\n";

  if (c.db.url.empty()) {
    std::cout << "Database: NOT SET: set database.url or TLSRPT_DATABASE_URL\n";
    worsen(code, exit_code::config);
  } else {
    std::cout << "Database: " << config::redact_url(c.db.url)
              << (c.db.url_from_environment  ? " (from TLSRPT_DATABASE_URL)"
                  : c.db.url_from_credential ? " (from the credential database-url)"
                                             : "")
              << "\n";
    if (a.connect) {
#if TLSRPT_HAVE_STORE
      try {
        const auto info = store::check_connection(c.db.url);
        std::cout << "  connect: ok: PostgreSQL " << info.server_version << ", database "
                  << info.database << " as " << info.user << "\n";
        if (info.schema_version < info.latest_migration) {
          std::cout << "  schema: FAILED: schema version " << info.schema_version << " of "
                    << info.latest_migration << ": run `tlsrpt-collector migrate`"
                    << (c.db.migrate_on_start ? " (or let run/poll do it: migrate_on_start)" : "")
                    << "\n";
          worsen(code, exit_code::config);
        } else {
          std::cout << "  schema: ok: version " << info.schema_version << " of "
                    << info.latest_migration << "\n";
        }
        if (!info.can_write && info.schema_version > 0) {
          std::cout << "  write: FAILED: " << info.user
                    << " cannot write to tlsrpt.reports (grant it INSERT, UPDATE, DELETE: see "
                       "README.md)\n";
          worsen(code, exit_code::permission);
        }
      } catch (const store::error& e) {
        std::cout << "  connect: FAILED: " << logging::scrub(e.what()) << "\n";
        worsen(code, store_exit_code({e.sqlstate(), e.transient()}));
      }
#else
      std::cout << "  connect: not checked: this build lacks the store module\n";
      worsen(code, exit_code::unavailable);
#endif
    }
  }

  for (const auto& w : config::warnings(c)) std::cout << "Warning: " << w << "\n";
  if (c.mailboxes.empty()) std::cout << "Mailboxes: none configured (poll and run need one)\n";
  for (const auto& m : c.mailboxes) {
    std::cout << "Mailbox " << m.name << ": " << server_url(m.url) << m.folder << " as "
              << m.username << ", " << credentials_of(m);
    try {
      if (m.oauth) {
        if (m.oauth->client_secret.from != config::secret_ref::kind::none)
          (void)config::resolve_secret(m.oauth->client_secret, c.file);
      } else {
        (void)config::resolve_secret(m.secret, c.file);
      }
      std::cout << " (present)\n";
    } catch (const config::error& e) {
      std::cout << "\n  MISSING SECRET: " << e.what() << "\n";
      worsen(code, exit_code::config);
      continue;
    }
    std::cout << "  success: " << config::to_string(m.on_success.what) << " " << m.on_success.target
              << "; failure: " << config::to_string(m.on_failure.what) << " " << m.on_failure.target
              << "; not a report: " << config::to_string(m.on_not_a_report.what) << " "
              << m.on_not_a_report.target << "\n";
    if (!a.connect) continue;
#if TLSRPT_HAVE_IMAP
    try {
      const auto tokens = token_source_of(m, c.file);
      if (tokens) {
        (void)tokens->token();
        std::cout << "  token: ok: got an access token from " << m.oauth->token_url << "\n";
      }
      const auto mb = open_mailbox(connection_of(m, c.file), tokens.get());
      const auto st = mb->select(m.folder);
      std::cout << "  connect: ok: logged in, " << m.folder << " has " << st.exists
                << " message(s), UIDVALIDITY " << st.uidvalidity << "\n";
      // Issue 23: what the server offers that the collector's choices rest on.
      const auto prof = imap::profile_of(*mb);
      std::cout << "  server: " << prof.greeting
                << (prof.service.empty() ? "" : " (" + prof.service + ")") << "\n"
                << "  capabilities: " << imap::capability_line(prof) << "\n"
                << "  keywords: " << imap::keyword_line(st) << "\n";
#if TLSRPT_HAVE_COLLECTOR
      const auto plan = collector::plan_acknowledgement(job_of(m, c.lim, 0).options, st);
      std::cout << "  acknowledgement: "
                << (plan.fallback.empty() ? std::string("as configured")
                                          : "fallback: " + plan.fallback)
                << "\n";
#endif
      std::cout
          << "  moving: "
          << (prof.move ? "UID MOVE"
              : prof.uidplus
                  ? "UID COPY, \\Deleted and UID EXPUNGE (no MOVE; UIDPLUS)"
                  : "not possible (neither MOVE nor UIDPLUS): keep actions at keyword or leave")
          << "\n"
          << "  waiting for mail: "
          << (prof.idle && c.run.idle ? "IDLE between passes"
                                      : "polling every " + config::format_duration(c.run.interval) +
                                            (prof.idle ? " (daemon.idle is off)" : " (no IDLE)"))
          << "\n";
    } catch (const imap::oauth2_error& e) {
      std::cout << "  token: FAILED: " << e.what() << "\n";
      worsen(code, e.configuration() ? exit_code::config
                   : e.transient()   ? exit_code::temporary
                                     : exit_code::unavailable);
    } catch (const imap::error& e) {
      std::cout << "  connect: FAILED: " << e.what() << "\n";
      worsen(code, e.transient() ? exit_code::temporary : exit_code::unavailable);
    }
#else
    std::cout << "  connect: not checked: this build lacks the imap module\n";
    worsen(code, exit_code::unavailable);
#endif
  }
  std::cout << (code == exit_code::ok ? "Everything checked works.\n"
                                      : "Some checks failed (see above).\n");
  return code;
}

}  // namespace tlsrpt::app
