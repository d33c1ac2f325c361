// SPDX-License-Identifier: Apache-2.0
// tlsrpt-collector: thin CLI. Parses arguments, loads configuration, wires the modules and
// maps errors to sysexits(3) codes. No parsing and no SQL here: the commands are in
// commands/*.cpp and the work in lib/.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app.hpp"
#include "manual.hpp"
#include "usage.hpp"
#if TLSRPT_HAVE_IMAP
#include "tlsrpt/imap/curl_mailbox.hpp"
#endif
#if TLSRPT_HAVE_MIME
#include "tlsrpt/mime/extract.hpp"
#endif

using namespace tlsrpt::app;

int main(int argc, char** argv) {
  CLI::App app{
      "tlsrpt-collector: SMTP TLS reports (RFC 8460) from a mailbox into PostgreSQL.\n"
      "Exit codes: 0 done, 64 usage, 65 rejected report, 66 unreadable input, 69 service\n"
      "unavailable, 75 temporary failure (retry: refused, unreachable, timed out), 77 permission\n"
      "denied (password, privilege), 78 configuration error."};
  app.set_version_flag("--version", std::string("tlsrpt-collector ") + TLSRPT_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  globals g;
  app.add_option("-c,--config", g.config_file,
                 "Configuration file (default: $TLSRPT_CONFIG, else "
                 "/etc/tlsrpt-collector/config.yaml when it exists)");
  app.add_option("--log-level", g.log_level, "Override logging.level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--log-format", g.log_format, "Override logging.format")
      ->check(CLI::IsMember({"text", "json"}));

  auto* run = app.add_subcommand("run", "Daemon: poll every mailbox every daemon.interval");
  auto* poll = app.add_subcommand("poll", "One pass over every mailbox, then exit (cron, timers)");

  ingest_args ingest_a;
  auto* ingest = app.add_subcommand(
      "ingest",
      "Store reports from files, directories, Maildir folders, mbox files or stdin (-).\n"
      "Exit 0 when delivered (also duplicates and mail that is no report), 65 for a rejected\n"
      "report, 75 when the database is unreachable (an MTA retries later).");
  ingest->add_option("inputs", ingest_a.inputs, "Files, directories, or - for one message on stdin")
      ->required();

  parse_args parse_a;
  auto* parse = app.add_subcommand(
      "parse",
      "Print the reports found in a file (message, JSON or gzip) as a JSON array.\n"
      "Needs no configuration; exit 65 with the cause on stderr for a rejected report.");
  parse->add_option("input", parse_a.input, "A file, or - for stdin")->required();

  auto* migrate = app.add_subcommand("migrate", "Apply the database migrations");

  prune_args prune_a;
  auto* prune = app.add_subcommand("prune", "Delete reports older than a number of days");
  prune->add_option("--older-than", prune_a.older_than_days, "Age in days")
      ->required()
      ->check(whole_days());
  prune->add_option("--batch-size", prune_a.batch_size, "Reports per transaction")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  reprocess_args reprocess_a;
  auto* reprocess = app.add_subcommand(
      "reprocess", "Retry rejected messages on the next pass (after an upgrade)");
  reprocess->add_option("--mailbox", reprocess_a.mailbox, "Only this mailbox (its name)");
  reprocess->add_flag("--include-skipped", reprocess_a.include_skipped,
                      "Also retry messages skipped for their size");

  check_args check_a;
  auto* check = app.add_subcommand("check-config", "Validate the configuration file");
  check->add_flag("--connect", check_a.connect, "Also log in to every mailbox and the database");

  summary_args summary_a;
  auto* summary = app.add_subcommand(
      "summary", "Per policy domain: sessions, failures, what they mean, MTA-STS readiness");
  summary->add_option("--days", summary_a.days, "Window in days")
      ->capture_default_str()
      ->check(whole_days());
  summary->add_option("--domain", summary_a.domain, "Only this policy domain");
  summary->add_option("--format", summary_a.format, "table, json or csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "csv"}));
  summary
      ->add_option("--section", summary_a.section,
                   "With --format csv, the one table to write: domains, failures or readiness")
      ->capture_default_str()
      ->check(CLI::IsMember({"domains", "failures", "readiness"}));
  summary->add_option("--top", summary_a.top, "How many failure rows")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  report_args report_a;
  auto* report = app.add_subcommand(
      "report", "The dashboard as one self-contained HTML file (inline CSS and SVG, no script)");
  report->add_option("--html", report_a.html, "The file to write, or - for stdout")->required();
  report->add_option("--days", report_a.days, "Window in days (as summary)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  report->add_option("--domain", report_a.domain, "Only this policy domain");
  report
      ->add_option("--max-domains", report_a.max_domains,
                   "At most this many domain sections, by sessions")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  check_findings_args findings_a;
  auto* findings = app.add_subcommand(
      "check",
      "Open findings (failures, certificates, silent reporters, readiness, collector health).\n"
      "Monitoring-plugin exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.");
  findings->add_option("--domain", findings_a.domain, "Only this policy domain");
  findings->add_option("--format", findings_a.format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  findings->add_flag("--notify", findings_a.notify,
                     "Also send what opened or resolved to alerts.webhooks and alerts.email");

  // Internal: the build generates the manual page and the shell completions from this very
  // definition (app/manual.cpp), so neither can drift from --help. No group: hidden.
  auto* manpage = app.add_subcommand("manpage", "Write tlsrpt-collector(1) in roff to stdout");
  manpage->group("");
  std::string completion_shell;
  auto* completion = app.add_subcommand("completion", "Write a shell completion script");
  completion->group("");
  completion->add_option("shell", completion_shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (const auto msg = unknown_command(app, argc, argv)) {
      std::cerr << "tlsrpt-collector: " << *msg << "\n";
      return exit_code::usage;
    }
    const int rc = app.exit(e);
    // `check` speaks the monitoring-plugin convention even for bad arguments: 3 UNKNOWN.
    if (rc != 0 && findings->parsed()) return 3;
    return rc == 0 ? exit_code::ok : exit_code::usage;
  }

  if (*manpage) {
    write_manpage(app, std::cout);
    return exit_code::ok;
  }
  if (*completion) {
    write_completion(app, completion_shell, std::cout);
    return exit_code::ok;
  }

  context ctx(g);
  try {
#if TLSRPT_HAVE_IMAP
    // curl_global_init before any thread exists, once, owned here (STYLE.md).
    const tlsrpt::imap::library curl;
#endif
#if TLSRPT_HAVE_MIME
    const tlsrpt::mime::library gmime;
#endif
    install_signal_handlers();
    if (*run) return cmd_run(ctx);
    if (*poll) return cmd_poll(ctx);
    if (*ingest) return cmd_ingest(ctx, ingest_a);
    if (*parse) return cmd_parse(ctx, parse_a);
    if (*migrate) return cmd_migrate(ctx);
    if (*prune) return cmd_prune(ctx, prune_a);
    if (*reprocess) return cmd_reprocess(ctx, reprocess_a);
    if (*check) return cmd_check_config(ctx, check_a);
    if (*summary) return cmd_summary(ctx, summary_a);
    if (*report) return cmd_report(ctx, report_a);
    if (*findings) return cmd_check(ctx, findings_a);
  } catch (...) {
    return report_exception(std::current_exception(), ctx.log_format());
  }
  return exit_code::usage;
}
