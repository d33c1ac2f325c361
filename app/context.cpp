// SPDX-License-Identifier: Apache-2.0
// Configuration loading, logging, signals and the mapping of errors to exit codes.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "app.hpp"
#include "tlsrpt/logging/log.hpp"
#include "tlsrpt/source/source.hpp"
#if TLSRPT_HAVE_STORE
#include "tlsrpt/store/pg_store.hpp"
#endif
#if TLSRPT_HAVE_IMAP
#include "tlsrpt/imap/mailbox.hpp"
#include "tlsrpt/imap/oauth2.hpp"
#endif
#if TLSRPT_HAVE_HTTP
#include "tlsrpt/http/server.hpp"
#endif

namespace tlsrpt::app {

namespace {

constexpr const char* system_config = "/etc/tlsrpt-collector/config.yaml";

std::atomic<bool> stop_flag{false};
std::atomic<bool> reload_flag{false};

extern "C" void on_signal(int) { stop_flag.store(true); }
extern "C" void on_hangup(int) { reload_flag.store(true); }

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // A second signal kills the process the usual way: a user pressing ^C twice means it.
  sa.sa_flags = static_cast<int>(SA_RESETHAND);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

void install_reload_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_hangup;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &sa, nullptr);
}

context::context(globals g) : g_(std::move(g)) {}

const config::configuration& context::cfg() {
  if (cfg_) return *cfg_;
  std::optional<std::string> file = g_.config_file;
  if (!file) {
    const char* env = std::getenv("TLSRPT_CONFIG");
    if (env != nullptr && *env != '\0') {
      file = env;
    } else if (std::filesystem::exists(system_config)) {
      file = system_config;
    }
  }
  cfg_ = file ? config::load_file(*file) : config::defaults();
  config_path_ = file;
  // From here on nothing we print may show the database password, whatever quotes the URL.
  logging::add_secrets(config::connection_secrets(cfg_->db.url));
  return *cfg_;
}

void context::replace_config(config::configuration c) {
  logging::add_secrets(config::connection_secrets(c.db.url));
  cfg_ = std::move(c);
}

const std::optional<std::string>& context::config_path() {
  (void)cfg();
  return config_path_;
}

logging::format context::log_format() const {
  if (g_.log_format)
    return *g_.log_format == "json" ? logging::format::json : logging::format::text;
  if (log_) return logging::format_of(*log_);
  if (cfg_) {
    return cfg_->log.fmt == config::logging::format::json ? logging::format::json
                                                          : logging::format::text;
  }
  return logging::format::text;
}

const std::string& context::database_url() {
  const auto& c = cfg();
  if (c.db.url.empty())
    throw failure(exit_code::config,
                  "config: no database: set database.url in the configuration file or the "
                  "TLSRPT_DATABASE_URL environment variable");
  return c.db.url;
}

void context::migrate_if_configured() {
#if TLSRPT_HAVE_STORE
  const auto& c = cfg();
  if (!c.db.migrate_on_start) return;
  store::migrate_options o;
  if (c.db.migrations_dir) o.dir = *c.db.migrations_dir;
  const auto applied = store::migrate(database_url(), o);
  for (const auto& m : applied) {
    logging::emit(*log(), logging::level::info, logging::event("migration").str("name", m.name),
                  "migration " + m.name + " applied");
  }
#endif
}

std::shared_ptr<spdlog::logger> context::log() {
  if (log_) return log_;
  auto fmt = config::logging::format::text;
  std::string level = "info";
  // The logger must work even when the configuration is what failed to load.
  try {
    fmt = cfg().log.fmt;
    level = cfg().log.level;
  } catch (const std::exception&) {
  }
  if (g_.log_format) fmt = *g_.log_format == "json" ? config::logging::format::json : fmt;
  if (g_.log_level) level = *g_.log_level;
  log_ = logging::make_logger(
      fmt == config::logging::format::json ? logging::format::json : logging::format::text, level);
  return log_;
}

const std::atomic<bool>& context::stop() const { return stop_flag; }
std::atomic<bool>& context::reload() { return reload_flag; }

int store_exit_code(const store_error_facts& e) {
  if (e.transient) return exit_code::temporary;
  // SQLSTATE class 28 (invalid authorization: wrong password, unknown role, pg_hba.conf) and
  // 42501 (insufficient privilege): retrying cannot help until an administrator acts.
  if (e.sqlstate.starts_with("28") || e.sqlstate == "42501") return exit_code::permission;
  // No such database (3D000), schema (3F000) or table (42P01: not migrated), a malformed
  // connection string (22023): fix the configuration.
  if (e.sqlstate == "3D000" || e.sqlstate == "3F000" || e.sqlstate == "42P01" ||
      e.sqlstate == "22023")
    return exit_code::config;
  return exit_code::unavailable;
}

int report_exception(std::exception_ptr e, logging::format f) {
  int code = exit_code::software;
  std::string what;
  try {
    std::rethrow_exception(e);
  } catch (const failure& err) {
    code = err.code();
    what = err.what();
  } catch (const config::error& err) {
    code = exit_code::config;
    what = err.what();
  } catch (const source::error& err) {
    code = exit_code::no_input;
    what = err.what();
#if TLSRPT_HAVE_STORE
  } catch (const store::error& err) {
    code = store_exit_code({err.sqlstate(), err.transient()});
    what = err.what();
#endif
#if TLSRPT_HAVE_IMAP
  } catch (const imap::oauth2_error& err) {
    code = err.configuration() ? exit_code::config
           : err.transient()   ? exit_code::temporary
                               : exit_code::unavailable;
    what = err.what();
  } catch (const imap::error& err) {
    code = err.transient() ? exit_code::temporary : exit_code::unavailable;
    what = err.what();
#endif
#if TLSRPT_HAVE_HTTP
  } catch (const http::error& err) {
    // A listen address taken or refused: the service cannot run here (EX_UNAVAILABLE).
    code = exit_code::unavailable;
    what = err.what();
#endif
  } catch (const std::exception& err) {
    what = std::string("internal error: ") + err.what();
  }
  logging::fatal(f, what, code);
  return code;
}

}  // namespace tlsrpt::app
