// SPDX-License-Identifier: Apache-2.0
// What the command implementations share: exit codes, the loaded configuration, the logger,
// the stop flag. The commands themselves are in commands/*.cpp; main.cpp only parses arguments.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tlsrpt/config/config.hpp"
#include "tlsrpt/logging/log.hpp"

namespace spdlog {
class logger;
}

namespace tlsrpt::app {

// sysexits(3): what an MTA and systemd understand.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int usage = 64;        // EX_USAGE: bad arguments
inline constexpr int data = 65;         // EX_DATAERR: a rejected report
inline constexpr int no_input = 66;     // EX_NOINPUT: an input file that cannot be read
inline constexpr int unavailable = 69;  // EX_UNAVAILABLE: a service refused us for good
inline constexpr int software = 70;     // EX_SOFTWARE: a bug
inline constexpr int temporary = 75;    // EX_TEMPFAIL: only refused, unreachable, timed out
inline constexpr int permission = 77;   // EX_NOPERM: wrong password, missing privilege
inline constexpr int config = 78;       // EX_CONFIG: configuration error
}  // namespace exit_code

// An error that already knows its exit code; main prints what() and exits with code().
class failure : public std::runtime_error {
 public:
  failure(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// Global options, filled by main before a command runs.
struct globals {
  std::optional<std::string> config_file;  // -c; else $TLSRPT_CONFIG; else the system path
  std::optional<std::string> log_level;    // overrides logging.level
  std::optional<std::string> log_format;   // overrides logging.format
};

class context {
 public:
  explicit context(globals g);
  // The configuration: the file when one is given or present at the default path, else the
  // defaults (plus TLSRPT_DATABASE_URL). Loaded once, on first use. Throws config::error.
  const config::configuration& cfg();
  // The database URL, or a config failure saying how to set one.
  const std::string& database_url();
  // Applies the migrations when database.migrate_on_start says so.
  void migrate_if_configured();
  std::shared_ptr<spdlog::logger> log();
  // The format of the log and of fatal errors: --log-format, else logging.format once loaded.
  logging::format log_format() const;
  const std::atomic<bool>& stop() const;
  // Set by SIGHUP (in `run`): re-read the configuration at the next pass boundary.
  std::atomic<bool>& reload();
  // The file the configuration came from (none: the defaults).
  const std::optional<std::string>& config_path();
  // Swaps in a configuration read again (SIGHUP); the old one stays when reading fails.
  void replace_config(config::configuration c);

 private:
  globals g_;
  std::optional<config::configuration> cfg_;
  std::optional<std::string> config_path_;
  std::shared_ptr<spdlog::logger> log_;
};

// SIGTERM and SIGINT set the stop flag (a second signal kills as usual).
void install_signal_handlers();
// SIGHUP sets the reload flag instead of ending the program (`run` only).
void install_reload_handler();

// What the exit code of a store failure depends on (kept free of the store's types, so the
// mapping is testable and the same for every command).
struct store_error_facts {
  std::string sqlstate;
  bool transient = false;
};
// 75 only for what may pass (refused, unreachable, timed out, server shutting down); 77 for
// authentication and privileges; 78 for a database, schema or URL that is wrong; else 69.
int store_exit_code(const store_error_facts& e);

// Commands. Each returns an exit code or throws (main maps the exception).
struct parse_args {
  std::string input;
};
int cmd_parse(context& ctx, const parse_args& a);

struct ingest_args {
  std::vector<std::string> inputs;
};
int cmd_ingest(context& ctx, const ingest_args& a);

int cmd_migrate(context& ctx);

struct prune_args {
  int older_than_days = 0;
  int batch_size = 1000;
};
int cmd_prune(context& ctx, const prune_args& a);

struct reprocess_args {
  std::optional<std::string> mailbox;
  bool include_skipped = false;
};
int cmd_reprocess(context& ctx, const reprocess_args& a);

int cmd_poll(context& ctx);
int cmd_run(context& ctx);

struct check_args {
  bool connect = false;
};
int cmd_check_config(context& ctx, const check_args& a);

struct summary_args {
  int days = 30;
  std::optional<std::string> domain;
  std::string format = "table";
  std::string section = "domains";  // which table --format csv writes
  int top = 10;
};
int cmd_summary(context& ctx, const summary_args& a);

struct report_args {
  std::string html;  // the file to write, or - for stdout
  int days = 30;
  std::optional<std::string> domain;
  int max_domains = 100;  // domain sections in one file, by sessions
};
int cmd_report(context& ctx, const report_args& a);
struct check_findings_args {
  std::optional<std::string> domain;
  std::string format = "text";
  bool notify = false;  // also open/resolve the alerts and send what is due
};
// Monitoring-plugin exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
int cmd_check(context& ctx, const check_findings_args& a);

// Maps any exception to an exit code, printing it (once) on stderr, as JSON in a JSON log.
int report_exception(std::exception_ptr e, logging::format f = logging::format::text);

}  // namespace tlsrpt::app
