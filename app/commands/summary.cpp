// SPDX-License-Identifier: Apache-2.0
// `summary`: what a domain owner wants to know, in the terminal (table) or for tools (json, csv).
// The numbers come from the store's views; this file only lays them out.
#include <spdlog/fmt/fmt.h>

#include <iostream>
#include <sstream>

#include "../app.hpp"
#include "../json_out.hpp"
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

std::string domain_name(const std::optional<std::string>& d) { return d.value_or("(no domain)"); }

using insight::explain;
using insight::verdict_text;

void print_table(const store::summary& s, std::ostream& out) {
  out << "TLS reports of the last " << s.days << " day(s)\n\n";
  if (s.domains.empty()) {
    out << "No reports in this period. Run `tlsrpt-collector poll` or `ingest` first, or try a "
           "larger --days.\n";
    return;
  }
  std::size_t w = 13;
  for (const auto& d : s.domains) w = std::max(w, domain_name(d.policy_domain).size());
  out << fmt::format("{:<{}}  {:>7}  {:>10}  {:>10}  {:>8}  {:>8}  {}\n", "Policy domain", w,
                     "Reports", "Sessions", "Successful", "Failed", "Failure", "Reporters");
  for (const auto& d : s.domains)
    out << fmt::format("{:<{}}  {:>7}  {:>10}  {:>10}  {:>8}  {:>8}  {}\n",
                       domain_name(d.policy_domain), w, d.reports, d.sessions,
                       d.successful_sessions, d.failed_sessions, percent(d.failure_rate),
                       join(d.reporters, ", "));
  out << "\nTop failures\n";
  if (s.top_failures.empty()) out << "  none: every reported session succeeded.\n";
  for (const auto& f : s.top_failures) {
    const auto e = explain(f.result_type);
    out << fmt::format("  {}  {}  {} failed session(s) seen by {} reporter(s)\n",
                       domain_name(f.policy_domain), f.result_type, f.failed_sessions, f.reporters);
    if (f.receiving_mx_hostname || f.receiving_ip)
      out << "    at MX " << f.receiving_mx_hostname.value_or("?")
          << (f.receiving_ip ? " (" + *f.receiving_ip + ")" : std::string()) << "\n";
    out << "    What it means: " << e.meaning << "\n    What to check: " << e.to_check << "\n";
  }
  out << "\nMTA-STS\n";
  if (s.readiness.empty()) out << "  no MTA-STS policies reported.\n";
  for (const auto& r : s.readiness) {
    out << "  " << r.policy_domain << ": " << verdict_text(r) << "\n";
    out << fmt::format("    mode {}, {} reporter(s), {} session(s), {} would fail under enforce\n",
                       r.sts_mode.value_or("unknown"), r.reporters, r.sessions,
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

// RFC 4180 quoting.
std::string csv(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Three tables, each with its own header line, separated by one empty line.
void print_csv(const store::summary& s, std::ostream& out) {
  out << "policy_domain,reports,sessions,successful_sessions,failed_sessions,failure_rate,"
         "reporters\n";
  for (const auto& d : s.domains)
    out << csv(d.policy_domain.value_or("")) << "," << d.reports << "," << d.sessions << ","
        << d.successful_sessions << "," << d.failed_sessions << ","
        << fmt::format("{:.6f}", d.failure_rate) << "," << csv(join(d.reporters, ";")) << "\n";
  out << "\npolicy_domain,result_type,receiving_mx_hostname,receiving_ip,failed_sessions,"
         "reporters,meaning\n";
  for (const auto& f : s.top_failures)
    out << csv(f.policy_domain.value_or("")) << "," << csv(f.result_type) << ","
        << csv(f.receiving_mx_hostname.value_or("")) << "," << csv(f.receiving_ip.value_or(""))
        << "," << f.failed_sessions << "," << f.reporters << ","
        << csv(explain(f.result_type).meaning) << "\n";
  out << "\npolicy_domain,verdict,mode,reporters,sessions,blocking_failed_sessions,reasons\n";
  for (const auto& r : s.readiness)
    out << csv(r.policy_domain) << "," << store::to_string(r.result) << ","
        << csv(r.sts_mode.value_or("")) << "," << r.reporters << "," << r.sessions << ","
        << r.blocking_failed_sessions << "," << csv(join(r.reasons, "; ")) << "\n";
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
    print_csv(s, std::cout);
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
