// SPDX-License-Identifier: Apache-2.0
// The rules. Each reads the daily numbers of monitor_facts and appends findings; days are UTC
// days of the reports' date_begin, `today` is the day of the evaluation. With window W days the
// window is [today - W, today] (reports for a day arrive the next day, so the last W complete
// days plus today's first ones), and the baseline the B days before it.
#include <algorithm>
#include <map>
#include <set>

#include "tlsrpt/insight/explain.hpp"
#include "tlsrpt/insight/readiness.hpp"
#include "tlsrpt/monitor/finding.hpp"

namespace tlsrpt::monitor {

namespace {

int days_of(std::chrono::milliseconds d) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(d).count() / 24);
}

double share(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

double num(std::int64_t v) { return static_cast<double>(v); }

std::string percent(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f%%", rate * 100.0);
  return buf;
}

bool is_certificate(std::string_view t) {
  return t == "certificate-expired" || t == "certificate-not-trusted" ||
         t == "certificate-host-mismatch";
}

struct span {
  int first = 0;  // inclusive
  int last = 0;   // inclusive
  bool holds(int day) const { return day >= first && day <= last; }
};

struct ctx {
  const store::monitor_facts& f;
  const config::alert_rules& r;
  span window;
  span baseline;
  std::vector<finding>& out;
};

struct totals {
  std::int64_t sessions = 0;
  std::int64_t blocking = 0;
  std::set<int> days;  // days with sessions
};

std::map<std::string, totals> per_domain(const ctx& c, span s) {
  std::map<std::string, totals> m;
  for (const auto& d : c.f.days) {
    if (!s.holds(d.day)) continue;
    auto& t = m[d.policy_domain];
    t.sessions += d.sessions;
    t.blocking += d.blocking;
    if (d.sessions > 0) t.days.insert(d.day);
  }
  return m;
}

const store::sts_readiness* readiness_of(const std::vector<store::sts_readiness>& v,
                                         const std::string& domain) {
  for (const auto& r : v)
    if (r.policy_domain == domain) return &r;
  return nullptr;
}

// The blocking result types of a domain in the window, most failed sessions first.
std::vector<std::pair<std::string, std::int64_t>> blocking_types(const ctx& c,
                                                                 const std::string& domain) {
  static const std::set<std::string_view> blocking{
      "starttls-not-supported",  "certificate-host-mismatch", "certificate-expired",
      "certificate-not-trusted", "validation-failure",        "sts-webpki-invalid"};
  std::map<std::string, std::int64_t> m;
  for (const auto& f : c.f.failures)
    if (f.policy_domain == domain && c.window.holds(f.day) && blocking.count(f.result_type) > 0)
      m[f.result_type] += f.failed;
  std::vector<std::pair<std::string, std::int64_t>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

// What the failing sessions mean, by the type that failed most.
void explain_top(const ctx& c, const std::string& domain, finding& f) {
  const auto types = blocking_types(c, domain);
  if (types.empty()) {
    f.meaning =
        "Sessions failed that the reports do not detail; an enforce policy would have "
        "refused them.";
    f.to_check = "Read the raw reports (tlsrpt.reports.raw_json) for the failed sessions.";
    return;
  }
  const auto e = insight::explain(types.front().first);
  std::string list;
  for (const auto& [t, n] : types) list += (list.empty() ? "" : ", ") + t + " " + std::to_string(n);
  f.meaning = "Mostly " + types.front().first + ": " + std::string(e.meaning) + " (" + list + ")";
  f.to_check = std::string(e.to_check);
}

void new_failures(const ctx& c) {
  const auto base = per_domain(c, c.baseline);
  // domain -> type/host -> failed sessions, in the window and in the baseline
  std::map<std::string, std::map<std::string, std::int64_t>> win_types, win_hosts;
  std::map<std::string, std::set<std::string>> base_types, base_hosts;
  std::map<std::string, std::map<std::string, std::set<std::string>>> reporters;
  for (const auto& f : c.f.failures) {
    if (f.failed <= 0) continue;
    if (c.window.holds(f.day)) {
      win_types[f.policy_domain][f.result_type] += f.failed;
      reporters[f.policy_domain]["type:" + f.result_type].insert(f.reporter);
      if (f.mx_host) {
        win_hosts[f.policy_domain][*f.mx_host] += f.failed;
        reporters[f.policy_domain]["mx:" + *f.mx_host].insert(f.reporter);
      }
    } else if (c.baseline.holds(f.day)) {
      base_types[f.policy_domain].insert(f.result_type);
      if (f.mx_host) base_hosts[f.policy_domain].insert(*f.mx_host);
    }
  }
  for (const auto& [domain, types] : win_types) {
    const auto b = base.find(domain);
    // Without enough baseline every failure would be "new": say nothing rather than guess.
    if (b == base.end() || static_cast<int>(b->second.days.size()) < c.r.min_baseline_days)
      continue;
    const auto baseline_days = num(static_cast<std::int64_t>(b->second.days.size()));
    for (const auto& [type, n] : types) {
      if (base_types[domain].count(type) > 0) continue;
      const auto e = insight::explain(type);
      c.out.push_back({.key = "new-failure/" + domain + "/type:" + type,
                       .rule = "new-failure",
                       .level = severity::warning,
                       .policy_domain = domain,
                       .subject = type,
                       .title = domain + ": new failure type " + type + " (" + std::to_string(n) +
                                " failed sessions, none in the previous " +
                                std::to_string(c.r.baseline / std::chrono::hours(24)) + " days)",
                       .numbers = {{"failed_sessions", num(n)},
                                   {"reporters", num(static_cast<std::int64_t>(
                                                     reporters[domain]["type:" + type].size()))},
                                   {"baseline_days", baseline_days}},
                       .meaning = std::string(e.meaning),
                       .to_check = std::string(e.to_check)});
    }
    for (const auto& [host, n] : win_hosts[domain]) {
      if (base_hosts[domain].count(host) > 0) continue;
      c.out.push_back(
          {.key = "new-failure/" + domain + "/mx:" + host,
           .rule = "new-failure",
           .level = severity::warning,
           .policy_domain = domain,
           .subject = host,
           .title = domain + ": failures at MX " + host + " (" + std::to_string(n) +
                    " failed sessions), a host not seen failing in the previous " +
                    std::to_string(c.r.baseline / std::chrono::hours(24)) + " days",
           .numbers = {{"failed_sessions", num(n)},
                       {"reporters",
                        num(static_cast<std::int64_t>(reporters[domain]["mx:" + host].size()))},
                       {"baseline_days", baseline_days}},
           .meaning = "Senders began to fail at a receiving MX host that had no failures before: "
                      "a new or changed MX.",
           .to_check = "Check that " + host +
                       " is meant to receive mail for the domain, offers STARTTLS and presents a "
                       "valid certificate naming it; and that the MTA-STS policy lists it."});
    }
  }
}

void failure_rates(const ctx& c) {
  const auto win = per_domain(c, c.window);
  const auto base = per_domain(c, c.baseline);
  for (const auto& [domain, t] : win) {
    if (t.sessions < c.r.min_sessions) continue;  // one bad session of ten is no alarm
    const double rate = share(t.blocking, t.sessions);
    const auto* ready = readiness_of(c.f.readiness, domain);
    const bool enforced = ready && ready->sts_mode == "enforce";
    if (rate > c.r.threshold) {
      finding f{.key = "failure-rate/" + domain,
                .rule = "failure-rate",
                .level = enforced ? severity::critical : severity::warning,
                .policy_domain = domain,
                .title = domain + ": " + percent(rate) + " of " + std::to_string(t.sessions) +
                         " sessions would fail under enforce in the last " +
                         std::to_string(days_of(c.r.window)) + " days (threshold " +
                         percent(c.r.threshold) + ")" +
                         (enforced ? "; the policy is in enforce, so this mail was refused" : ""),
                .numbers = {{"sessions", num(t.sessions)},
                            {"blocking_failed_sessions", num(t.blocking)},
                            {"blocking_failure_rate", rate},
                            {"threshold", c.r.threshold}}};
      explain_top(c, domain, f);
      c.out.push_back(std::move(f));
    }
    const auto b = base.find(domain);
    if (b == base.end() || b->second.sessions < c.r.min_sessions ||
        static_cast<int>(b->second.days.size()) < c.r.min_baseline_days)
      continue;  // baseline too short to compare with
    const double base_rate = share(b->second.blocking, b->second.sessions);
    // A baseline without failures makes any failure infinitely many times worse; that is the
    // failure-rate and new-failure rules' business.
    if (base_rate <= 0 || rate < c.r.spike_factor * base_rate) continue;
    finding f{.key = "spike/" + domain,
              .rule = "spike",
              .level = severity::warning,
              .policy_domain = domain,
              .title = domain + ": blocking failure rate " + percent(rate) + ", " +
                       std::to_string(static_cast<int>(rate / base_rate)) + " times the previous " +
                       std::to_string(days_of(c.r.baseline)) + " days' " + percent(base_rate),
              .numbers = {{"sessions", num(t.sessions)},
                          {"blocking_failed_sessions", num(t.blocking)},
                          {"blocking_failure_rate", rate},
                          {"baseline_failure_rate", base_rate},
                          {"factor", rate / base_rate}}};
    explain_top(c, domain, f);
    c.out.push_back(std::move(f));
  }
}

void certificates(const ctx& c) {
  struct seen {
    std::int64_t failed = 0;
    std::set<std::string> reporters;
    int last_day = 0;
  };
  std::map<std::tuple<std::string, std::string, std::string, std::string>, seen> m;
  for (const auto& f : c.f.failures) {
    if (!c.window.holds(f.day) || f.failed <= 0 || !is_certificate(f.result_type)) continue;
    auto& s =
        m[{f.policy_domain, f.result_type, f.mx_host.value_or(""), f.receiving_ip.value_or("")}];
    s.failed += f.failed;
    s.reporters.insert(f.reporter);
    s.last_day = std::max(s.last_day, f.day);
  }
  for (const auto& [k, s] : m) {
    const auto& [domain, type, host, ip] = k;
    const auto e = insight::explain(type);
    const std::string where = (host.empty() ? std::string("an unnamed MX") : "MX " + host) +
                              (ip.empty() ? std::string() : " (" + ip + ")");
    c.out.push_back({.key = "certificate/" + domain + "/" + type + "/" + host + "/" + ip,
                     .rule = "certificate",
                     .level = severity::critical,
                     .policy_domain = domain,
                     .subject = host,
                     .title = domain + ": " + type + " at " + where + ", " +
                              std::to_string(s.failed) + " failed sessions",
                     .numbers = {{"failed_sessions", num(s.failed)},
                                 {"reporters", num(static_cast<std::int64_t>(s.reporters.size()))},
                                 {"days_ago", num(c.f.today - s.last_day)}},
                     .meaning = std::string(e.meaning),
                     .to_check = std::string(e.to_check)});
  }
}

void silent_reporters(const ctx& c) {
  const int quiet = days_of(c.r.silent_after);
  const int before = days_of(c.r.silent_baseline);
  const span silent{c.f.today - quiet, c.f.today};
  const span active{silent.first - before, silent.first - 1};
  std::map<std::pair<std::string, std::string>, std::set<int>> days;
  for (const auto& d : c.f.days)
    if (d.sessions > 0 || d.failed > 0) days[{d.policy_domain, d.reporter}].insert(d.day);
  for (const auto& [k, set] : days) {
    const auto& [domain, reporter] = k;
    const auto n = std::count_if(set.begin(), set.end(), [&](int d) { return active.holds(d); });
    const bool heard = std::any_of(set.begin(), set.end(), [&](int d) { return silent.holds(d); });
    if (heard || n < c.r.silent_active_days) continue;
    const int last = *std::max_element(set.begin(), set.end());
    c.out.push_back(
        {.key = "silent-reporter/" + domain + "/" + reporter,
         .rule = "silent-reporter",
         .level = severity::warning,
         .policy_domain = domain,
         .subject = reporter,
         .title = domain + ": no reports from " + reporter + " for " +
                  std::to_string(c.f.today - last) + " days (it reported on " + std::to_string(n) +
                  " of the " + std::to_string(before) + " days before)",
         .numbers = {{"active_days", num(n)}, {"days_silent", num(c.f.today - last)}},
         .meaning = "A reporter that used to send reports stopped. Zero reports do not mean zero "
                    "problems: mail from this sender is no longer being watched.",
         .to_check = "Check that the _smtp._tls TXT record of the domain still exists and names "
                     "this collector's address (rua=), that the mailbox accepts the reports, and "
                     "that `tlsrpt-collector messages --outcome rejected` shows none from " +
                     reporter + "."});
  }
}

void readiness_changes(const ctx& c) {
  std::set<std::string> domains;
  for (const auto& r : c.f.readiness) domains.insert(r.policy_domain);
  for (const auto& r : c.f.readiness_day_before) domains.insert(r.policy_domain);
  for (const auto& domain : domains) {
    const auto* now = readiness_of(c.f.readiness, domain);
    const auto* before = readiness_of(c.f.readiness_day_before, domain);
    const bool ready_now = now && now->result == store::verdict::ready;
    const bool ready_before = before && before->result == store::verdict::ready;
    if (ready_now == ready_before) continue;
    finding f{.rule = "readiness-changed", .level = severity::warning, .policy_domain = domain};
    const auto* r = now ? now : before;
    f.numbers = {{"observed_days", num(now ? now->observed_days : 0)},
                 {"min_days", num(r->min_days)},
                 {"reporters", num(now ? now->reporters : 0)},
                 {"blocking_failure_rate", now ? now->blocking_failure_rate : 0.0}};
    if (ready_now) {
      f.key = "readiness-changed/" + domain + "/ready";
      f.subject = "ready";
      f.title = domain + ": became ready for enforce (" + insight::progress_text(*now) + ")";
      f.meaning =
          "The MTA-STS policy in testing mode saw no failures that enforce would turn "
          "into refused mail, for long enough and from enough reporters.";
      f.to_check =
          "Switch the policy to mode: enforce (and raise max_age), update the policy id "
          "in the _mta-sts TXT record, and keep monitoring.";
    } else {
      f.key = "readiness-changed/" + domain + "/not-ready";
      f.subject = "not-ready";
      if (now && now->sts_mode == "enforce") f.level = severity::critical;
      f.title = domain + ": no longer ready for enforce" +
                (now ? ": " + insight::verdict_text(*now).substr(11) : std::string(": no reports"));
      f.meaning =
          "Something changed that enforce would turn into refused mail, or the reports "
          "stopped.";
      f.to_check = "Run `tlsrpt-collector summary --domain " + domain +
                   "` and fix what the failures show before (or while) enforcing.";
    }
    c.out.push_back(std::move(f));
  }
}

void collector_health(const ctx& c) {
  for (const auto& m : c.f.mailboxes) {
    if (!m.failing_since) continue;
    const auto failing = c.f.as_of - *m.failing_since;
    if (failing <= c.r.stale_after) continue;
    const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(failing).count();
    c.out.push_back(
        {.key = "collector/mailbox/" + m.mailbox,
         .rule = "collector",
         .level = severity::critical,
         .subject = m.mailbox,
         .title = "mailbox " + m.mailbox + ": every pass failed for " +
                  config::format_duration(std::chrono::minutes(minutes)) +
                  (m.last_error ? ": " + *m.last_error : std::string()),
         .numbers = {{"failing_seconds",
                      num(std::chrono::duration_cast<std::chrono::seconds>(failing).count())}},
         .meaning = "No reports are being collected from this mailbox.",
         .to_check = "Run `tlsrpt-collector check-config --connect` and read the collector's "
                     "log; check the server, the credentials and the folder."});
  }
  if (c.f.rejected > 0)
    c.out.push_back(
        {.key = "collector/rejected",
         .rule = "collector",
         .level = severity::warning,
         .subject = "rejected",
         .title = std::to_string(c.f.rejected) + " message(s) rejected in the last " +
                  std::to_string(days_of(c.r.window)) + " days" +
                  (c.f.last_rejection ? "; the last: " + *c.f.last_rejection : std::string()),
         .numbers = {{"rejected", num(c.f.rejected)}},
         .meaning = "Messages looked like reports but could not be read; their numbers are "
                    "missing from every summary.",
         .to_check = "Run `tlsrpt-collector messages --outcome rejected` for the causes; after an "
                     "upgrade, `tlsrpt-collector reprocess` retries them."});
}

}  // namespace

bool at_least(severity s, severity min) noexcept {
  return s == severity::critical || min == severity::warning;
}

std::vector<finding> evaluate(const store::monitor_facts& facts, const config::alert_rules& rules) {
  std::vector<finding> out;
  const int w = days_of(rules.window);
  const span window{facts.today - w, facts.today};
  const span baseline{window.first - days_of(rules.baseline), window.first - 1};
  const ctx c{facts, rules, window, baseline, out};
  new_failures(c);
  failure_rates(c);
  certificates(c);
  silent_reporters(c);
  readiness_changes(c);
  collector_health(c);
  std::stable_sort(out.begin(), out.end(), [](const finding& a, const finding& b) {
    if (a.level != b.level) return a.level == severity::critical;
    return a.key < b.key;
  });
  return out;
}

store::facts_options facts_options_for(const config::alert_rules& rules,
                                       const std::optional<std::string>& domain) {
  store::facts_options o;
  o.window_days = days_of(rules.window);
  o.history_days = std::max(o.window_days + days_of(rules.baseline),
                            days_of(rules.silent_after) + days_of(rules.silent_baseline)) +
                   1;
  o.readiness = {.days = std::max(30, rules.min_days),
                 .threshold = rules.threshold,
                 .min_days = rules.min_days,
                 .min_reporters = rules.min_reporters,
                 .quiet_days = rules.quiet_days};
  o.domain = domain;
  return o;
}

std::vector<finding> evaluate(store::pg_monitor& db, const config::alert_rules& rules,
                              const std::optional<std::string>& domain) {
  auto facts = db.read_facts(facts_options_for(rules, domain));
  auto found = evaluate(facts, rules);
  // Collector findings belong to no domain: a per-domain check leaves them out.
  if (domain) std::erase_if(found, [](const finding& f) { return !f.policy_domain.has_value(); });
  return found;
}

int plugin_status(const std::vector<finding>& findings) noexcept {
  int status = 0;
  for (const auto& f : findings) status = std::max(status, f.level == severity::critical ? 2 : 1);
  return status;
}

}  // namespace tlsrpt::monitor
