// SPDX-License-Identifier: Apache-2.0
// `summary`: what a domain owner wants to know, in the terminal (table) or for tools (json, csv).
// The numbers come from the store's views; this file only lays them out.
#include <spdlog/fmt/fmt.h>

#include <iostream>
#include <sstream>

#include "../app.hpp"
#include "../json_out.hpp"
#include "tlsrpt/text/escape.hpp"
#if TLSRPT_HAVE_STORE
#include "tlsrpt/insight/explain.hpp"
#include "tlsrpt/insight/readiness.hpp"
#include "tlsrpt/store/pg_store.hpp"
#endif

namespace tlsrpt::app {

#if TLSRPT_HAVE_STORE
namespace {

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : std::string(sep)) + x;
  return s;
}

std::string percent(double rate) { return fmt::format("{:.2f}%", rate * 100.0); }

// Widest a sender-controlled cell may be in the table: a 10 KB policy domain must not pad
// every row of it.
constexpr std::size_t max_domain_columns = 60;
constexpr std::size_t max_name_columns = 40;

// Every value a report carries (domains, organization names, MX names, unknown result types)
// is escaped for the terminal: no ESC sequence, bidi override or CR/LF reaches it raw.
std::string cell(std::string_view s, std::size_t max = max_name_columns) {
  return text::terminal_cell(s, max);
}

std::string domain_name(const std::optional<std::string>& d) {
  return d ? cell(*d, max_domain_columns) : std::string("(no domain)");
}

// "Google, Microsoft and 18 more": twenty names do not fit on a line.
std::string reporters_cell(const std::vector<std::string>& names) {
  constexpr std::size_t shown = 2;
  std::string s;
  const std::size_t n = names.size() <= shown + 1 ? names.size() : shown;
  for (std::size_t i = 0; i < n; ++i) s += (i ? ", " : "") + cell(names[i], 30);
  if (n < names.size()) s += fmt::format(" and {} more", names.size() - n);
  return s;
}

// Left-aligned in `width` terminal columns (fmt counts bytes; escaped text may be UTF-8).
std::string pad(const std::string& s, std::size_t width) {
  const std::size_t c = text::columns(s);
  return c >= width ? s : s + std::string(width - c, ' ');
}

using insight::explain;

// The reasons may quote report values (a policy domain, an MX name): escaped for the terminal.
std::string verdict_text(const store::sts_readiness& r) {
  return text::escape_c(insight::verdict_text(r));
}

void print_table(const store::summary& s, std::ostream& out) {
  out << "TLS reports of the last " << s.days << " day(s)\n\n";
  if (s.domains.empty()) {
    out << "No reports in this period. Run `tlsrpt-collector poll` or `ingest` first, or try a "
           "larger --days.\n";
    return;
  }
  std::size_t w = 13;
  for (const auto& d : s.domains) w = std::max(w, text::columns(domain_name(d.policy_domain)));
  out << fmt::format("{}  {:>7}  {:>10}  {:>10}  {:>8}  {:>8}  {}\n", pad("Policy domain", w),
                     "Reports", "Sessions", "Successful", "Failed", "Failure", "Reporters");
  for (const auto& d : s.domains)
    out << fmt::format("{}  {:>7}  {:>10}  {:>10}  {:>8}  {:>8}  {}\n",
                       pad(domain_name(d.policy_domain), w), d.reports, d.sessions,
                       d.successful_sessions, d.failed_sessions, percent(d.failure_rate),
                       reporters_cell(d.reporters));
  out << "\nTop failures\n";
  if (s.top_failures.empty()) out << "  none: every reported session succeeded.\n";
  for (const auto& f : s.top_failures) {
    const auto e = explain(f.result_type);
    out << fmt::format("  {}  {}  {} failed session(s) seen by {} reporter(s)\n",
                       domain_name(f.policy_domain), cell(f.result_type), f.failed_sessions,
                       f.reporters);
    if (f.receiving_mx_hostname || f.receiving_ip)
      out << "    at MX "
          << (f.receiving_mx_hostname ? cell(*f.receiving_mx_hostname, max_domain_columns) : "?")
          << (f.receiving_ip ? " (" + cell(*f.receiving_ip) + ")" : std::string()) << "\n";
    out << "    What it means: " << e.meaning << "\n    What to check: " << e.to_check << "\n";
  }
  out << "\nMTA-STS\n";
  if (s.readiness.empty()) out << "  no MTA-STS policies reported.\n";
  for (const auto& r : s.readiness) {
    out << "  " << cell(r.policy_domain, max_domain_columns) << ": " << verdict_text(r) << "\n";
    out << fmt::format("    mode {}, {} reporter(s), {} session(s), {} would fail under enforce\n",
                       cell(r.sts_mode.value_or("unknown")), r.reporters, r.sessions,
                       r.blocking_failed_sessions);
  }
}

std::string opt_json(const std::optional<std::string>& s) { return s ? json::quote(*s) : "null"; }

std::string list_json(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + json::quote(v[i]);
  return s + "]";
}

void print_json(const store::summary& s, std::ostream& out) {
  out << "{\"days\":" << s.days << ",\"domains\":[";
  for (std::size_t i = 0; i < s.domains.size(); ++i) {
    const auto& d = s.domains[i];
    out << (i ? "," : "") << "{\"policy_domain\":" << opt_json(d.policy_domain)
        << ",\"reporters\":" << list_json(d.reporters) << ",\"reports\":" << d.reports
        << ",\"sessions\":" << d.sessions << ",\"successful_sessions\":" << d.successful_sessions
        << ",\"failed_sessions\":" << d.failed_sessions
        << ",\"failure_rate\":" << json::number(d.failure_rate) << "}";
  }
  out << "],\"top_failures\":[";
  for (std::size_t i = 0; i < s.top_failures.size(); ++i) {
    const auto& f = s.top_failures[i];
    const auto e = explain(f.result_type);
    out << (i ? "," : "") << "{\"policy_domain\":" << opt_json(f.policy_domain)
        << ",\"result_type\":" << json::quote(f.result_type)
        << ",\"receiving_mx_hostname\":" << opt_json(f.receiving_mx_hostname)
        << ",\"receiving_ip\":" << opt_json(f.receiving_ip)
        << ",\"failed_sessions\":" << f.failed_sessions << ",\"reporters\":" << f.reporters
        << ",\"meaning\":" << json::quote(e.meaning)
        << ",\"what_to_check\":" << json::quote(e.to_check) << "}";
  }
  out << "],\"mta_sts\":[";
  for (std::size_t i = 0; i < s.readiness.size(); ++i) {
    const auto& r = s.readiness[i];
    out << (i ? "," : "") << "{\"policy_domain\":" << json::quote(r.policy_domain)
        << ",\"verdict\":" << json::quote(store::to_string(r.result))
        << ",\"reasons\":" << list_json(r.reasons) << ",\"mode\":" << opt_json(r.sts_mode)
        << ",\"reporters\":" << r.reporters << ",\"sessions\":" << r.sessions
        << ",\"failed_sessions\":" << r.failed_sessions
        << ",\"blocking_failed_sessions\":" << r.blocking_failed_sessions
        << ",\"blocking_failure_rate\":" << json::number(r.blocking_failure_rate)
        << ",\"blocking_result_types\":" << list_json(r.blocking_result_types) << "}";
  }
  out << "]}\n";
}

// One tidy table per --section (pandas, spreadsheets), RFC 4180 fields, and no cell that a
// spreadsheet would run as a formula (text::csv_field).
std::string csv(std::string_view s) { return text::csv_field(s); }

void print_csv(const store::summary& s, const std::string& section, std::ostream& out) {
  if (section == "failures") {
    out << "policy_domain,result_type,receiving_mx_hostname,receiving_ip,failed_sessions,"
           "reporters,meaning\r\n";
    for (const auto& f : s.top_failures)
      out << csv(f.policy_domain.value_or("")) << "," << csv(f.result_type) << ","
          << csv(f.receiving_mx_hostname.value_or("")) << "," << csv(f.receiving_ip.value_or(""))
          << "," << f.failed_sessions << "," << f.reporters << ","
          << csv(explain(f.result_type).meaning) << "\r\n";
  } else if (section == "readiness") {
    out << "policy_domain,verdict,mode,reporters,sessions,blocking_failed_sessions,reasons\r\n";
    for (const auto& r : s.readiness)
      out << csv(r.policy_domain) << "," << store::to_string(r.result) << ","
          << csv(r.sts_mode.value_or("")) << "," << r.reporters << "," << r.sessions << ","
          << r.blocking_failed_sessions << "," << csv(join(r.reasons, "; ")) << "\r\n";
  } else {
    out << "policy_domain,reports,sessions,successful_sessions,failed_sessions,failure_rate,"
           "reporters\r\n";
    for (const auto& d : s.domains)
      out << csv(d.policy_domain.value_or("")) << "," << d.reports << "," << d.sessions << ","
          << d.successful_sessions << "," << d.failed_sessions << ","
          << fmt::format("{:.6f}", d.failure_rate) << "," << csv(join(d.reporters, ";")) << "\r\n";
  }
}

}  // namespace
#endif

int cmd_summary(context& ctx, const summary_args& a) {
#if TLSRPT_HAVE_STORE
  store::pg_store db(ctx.database_url());
  store::summary_options o;
  o.days = a.days;
  o.domain = a.domain;
  o.top_failures = a.top;
  // Readiness by the same rule as the findings (alerts.rules).
  const auto& rules = ctx.cfg().alerts.rules;
  o.threshold = rules.threshold;
  o.min_days = rules.min_days;
  o.min_reporters = rules.min_reporters;
  o.quiet_days = rules.quiet_days;
  const auto s = db.query_summary(o);
  if (a.format == "json") {
    print_json(s, std::cout);
  } else if (a.format == "csv") {
    print_csv(s, a.section, std::cout);
  } else {
    print_table(s, std::cout);
  }
  return exit_code::ok;
#else
  (void)ctx;
  (void)a;
  throw failure(exit_code::unavailable,
                "summary: not available: this build lacks the store module");
#endif
}

}  // namespace tlsrpt::app
