// SPDX-License-Identifier: Apache-2.0
// The three pages. Every string from a report or the ledger goes through html::text() (capped)
// or html::escape(); numbers carry their exact value in data-value, so tests (and scrapers)
// need not parse "1,234".
#include "tlsrpt/dashboard/pages.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "tlsrpt/dashboard/charts.hpp"
#include "tlsrpt/dashboard/html.hpp"
#include "tlsrpt/dashboard/layout.hpp"

namespace tlsrpt::dashboard {

namespace {

using html::count;
using html::escape;
using html::percent;
using html::text;

constexpr std::string_view no_domain = "(no policy domain)";

// Days from a to b, both YYYY-MM-DD; 0 when either is malformed.
int days_between(const std::string& a, const std::string& b) {
  const auto parse = [](const std::string& s) -> std::optional<std::chrono::sys_days> {
    int y = 0;
    unsigned m = 0, d = 0;
    if (std::sscanf(s.c_str(), "%d-%u-%u", &y, &m, &d) != 3) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                          std::chrono::day{d}};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::sys_days{ymd};
  };
  const auto x = parse(a), y = parse(b);
  if (!x || !y) return 0;
  return static_cast<int>((*y - *x).count());
}

std::string num_cell(std::int64_t v, std::string_view field) {
  return "<td class=\"n\" data-field=\"" + std::string(field) + "\" data-value=\"" +
         std::to_string(v) + "\">" + count(v) + "</td>";
}

std::string rate(std::int64_t failed, std::int64_t total) {
  return total > 0 ? percent(static_cast<double>(failed) / static_cast<double>(total)) : "–";
}

std::string rate_cell(std::int64_t failed, std::int64_t total) {
  const double r = total > 0 ? static_cast<double>(failed) / static_cast<double>(total) : 0.0;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", r);
  return std::string("<td class=\"n") + (failed > 0 ? " fail-text" : "") +
         "\" data-field=\"failure_rate\" data-value=\"" + buf + "\">" + rate(failed, total) +
         "</td>";
}

std::string range_line(int days, const std::string& from, const std::string& to) {
  return "<p class=\"range\">UTC days <time datetime=\"" + escape(from) + "\">" + escape(from) +
         "</time> to <time datetime=\"" + escape(to) + "\">" + escape(to) + "</time> (" +
         std::to_string(days + 1) + " days, by the start of each report's range)</p>\n";
}

std::string domain_label(const std::optional<std::string>& d) {
  return d ? text(*d, 120) : std::string(no_domain);
}

std::string domain_link(const std::optional<std::string>& d, const page_context& ctx) {
  if (!d || !ctx.domain_href) return domain_label(d);
  return "<a href=\"" + escape(ctx.domain_href(*d)) + "\">" + domain_label(d) + "</a>";
}

// The MTA-STS mode the monitor's readiness rule saw last.
std::string mode_cell(const page_context& ctx, const std::string& domain) {
  const auto m = detail::sts_mode(ctx.monitor.get(), domain);
  return m ? text(*m, 20) : std::string("<span class=\"muted\">none seen</span>");
}

std::vector<charts::day_bar> bars(const std::vector<store::day_sessions>& days) {
  std::vector<charts::day_bar> out;
  for (const auto& d : days) out.push_back({d.day, d.successful, d.failed});
  return out;
}

std::string overview_body(const store::overview& o, const page_context& ctx) {
  std::string s = "<h1>TLS reports</h1>\n" + range_line(o.days, o.from_day, o.to_day);
  std::int64_t sessions = 0, failed = 0;
  std::set<std::string> reporters;
  for (const auto& d : o.domains) {
    sessions += d.sessions;
    failed += d.failed_sessions;
    for (const auto& r : d.reporters) reporters.insert(r.reporter);
  }
  s += "<ul class=\"cards\" aria-label=\"Totals\">";
  s += "<li><span class=\"v\">" + count(static_cast<std::int64_t>(o.domains.size())) +
       "</span><span class=\"k\">policy domains</span></li>";
  s += "<li><span class=\"v\">" + count(sessions) + "</span><span class=\"k\">sessions</span></li>";
  s += "<li><span class=\"v\">" + rate(failed, sessions) +
       "</span><span class=\"k\">failed sessions (" + count(failed) + ")</span></li>";
  s += "<li><span class=\"v\">" + count(static_cast<std::int64_t>(reporters.size())) +
       "</span><span class=\"k\">reporters</span></li>";
  s += "<li><span class=\"v\"><a href=\"" + escape(ctx.messages_href) + "\">" +
       count(o.rejected_messages) +
       "</a></span><span class=\"k\">rejected or skipped messages</span></li>";
  s += "</ul>\n";

  s += detail::findings_section(ctx.monitor.get(), std::nullopt, ctx.domain_href, "h2");

  s += "<h2 id=\"domains\">Policy domains</h2>\n";
  if (o.domains.empty()) {
    s += "<p>No reports in this period. Run <code>tlsrpt-collector poll</code> or "
         "<code>ingest</code> first, or choose a longer period.</p>\n";
  } else {
    s += "<div class=\"scroll\"><table id=\"domain-table\">\n<caption>Sessions reported per "
         "policy domain; the bars show the last " +
         std::to_string(o.domains.front().sparkline.size()) +
         " days (height: sessions, red: failed)</caption>\n<thead><tr><th scope=\"col\">Policy "
         "domain</th><th scope=\"col\" class=\"n\">Sessions</th><th scope=\"col\" "
         "class=\"n\">Failed</th><th scope=\"col\" class=\"n\">Failure rate</th><th "
         "scope=\"col\">Daily</th><th scope=\"col\">MTA-STS</th><th "
         "scope=\"col\">Readiness</th><th scope=\"col\" class=\"n\">Reporters</th></tr></thead>\n"
         "<tbody>\n";
    for (const auto& d : o.domains) {
      std::int64_t spark_total = 0, spark_failed = 0;
      for (const auto& x : d.sparkline) {
        spark_total += x.successful + x.failed;
        spark_failed += x.failed;
      }
      const std::string label = "Last " + std::to_string(d.sparkline.size()) +
                                " days: " + count(spark_total) + " sessions, " +
                                count(spark_failed) + " failed";
      s += "<tr data-domain=\"" + escape(d.policy_domain.value_or("")) +
           "\"><th scope=\"row\" class=\"name\">" + domain_link(d.policy_domain, ctx) + "</th>" +
           num_cell(d.sessions, "sessions") + num_cell(d.failed_sessions, "failed_sessions") +
           rate_cell(d.failed_sessions, d.sessions) + "<td>" +
           charts::sparkline(bars(d.sparkline), label) + "</td><td>" +
           (d.policy_domain ? mode_cell(ctx, *d.policy_domain) : std::string("–")) + "</td><td>" +
           (d.policy_domain ? detail::readiness_badge(ctx.monitor.get(), *d.policy_domain)
                            : std::string("–")) +
           "</td>" + num_cell(static_cast<std::int64_t>(d.reporters.size()), "reporters") +
           "</tr>\n";
    }
    s += "</tbody></table></div>\n";
  }

  // Reporters: a reporter that stopped sending is news (a broken pipeline at its end or ours).
  s += "<h2 id=\"reporters\">Reporters</h2>\n";
  bool any = false;
  std::string rows;
  for (const auto& d : o.domains)
    for (const auto& r : d.reporters) {
      any = true;
      const int silent = days_between(r.last_day, o.to_day);
      rows += "<tr><td class=\"name\">" + domain_label(d.policy_domain) +
              "</td><td class=\"name\">" + text(r.reporter) + "</td><td><time>" +
              escape(r.last_day) + "</time></td>" + num_cell(r.sessions, "sessions") + "<td>" +
              (silent >= 2 ? "<span class=\"fail-text\">silent for " + std::to_string(silent) +
                                 " days</span>"
                           : std::string("reporting")) +
              "</td></tr>\n";
    }
  if (!any) {
    s += "<p>No reporter in this period.</p>\n";
  } else {
    s += "<div class=\"scroll\"><table id=\"reporter-table\"><caption>Who reported about each "
         "domain in the period; silent: no report covering the last two days</caption>"
         "<thead><tr><th scope=\"col\">Policy domain</th><th scope=\"col\">Reporter</th><th "
         "scope=\"col\">Latest day</th><th scope=\"col\" class=\"n\">Sessions</th><th "
         "scope=\"col\">Status</th></tr></thead><tbody>\n" +
         rows + "</tbody></table></div>\n";
  }

  s += "<h2 id=\"health\">Collector</h2>\n";
  if (o.mailboxes.empty()) {
    s += "<p>No message recorded yet.</p>\n";
  } else {
    s += "<div class=\"scroll\"><table id=\"health-table\"><caption>Messages recorded per "
         "source (mailbox name, file, stdin); last activity is the latest message seen</caption>"
         "<thead><tr><th scope=\"col\">Source</th><th scope=\"col\">Last activity</th><th "
         "scope=\"col\" class=\"n\">Messages</th><th scope=\"col\" class=\"n\">Rejected</th><th "
         "scope=\"col\" class=\"n\">Skipped</th><th scope=\"col\" class=\"n\">Pending "
         "retry</th></tr></thead><tbody>\n";
    for (const auto& m : o.mailboxes)
      s += "<tr><th scope=\"row\" class=\"name\">" + text(m.source, 80) + "</th><td>" +
           escape(m.last_seen) + "</td>" + num_cell(m.messages, "messages") +
           num_cell(m.rejected, "rejected") + num_cell(m.skipped, "skipped") +
           num_cell(m.pending, "pending") + "</tr>\n";
    s += "</tbody></table></div>\n<p><a href=\"" + escape(ctx.messages_href) +
         "\">Rejected and skipped messages</a></p>\n";
  }
  return s;
}

std::string data_table(const std::vector<std::string>& heads,
                       const std::vector<std::vector<std::string>>& rows,
                       std::string_view caption) {
  std::string s = "<details><summary>" + escape(caption) +
                  " as a table</summary><div class=\"scroll\"><table><thead><tr>";
  for (std::size_t i = 0; i < heads.size(); ++i)
    s += std::string("<th scope=\"col\"") + (i ? " class=\"n\"" : "") + ">" + escape(heads[i]) +
         "</th>";
  s += "</tr></thead><tbody>";
  for (const auto& r : rows) {
    s += "<tr>";
    for (std::size_t i = 0; i < r.size(); ++i)
      s += (i ? "<td class=\"n\">" : "<th scope=\"row\">") + r[i] + (i ? "</td>" : "</th>");
    s += "</tr>";
  }
  return s + "</tbody></table></div></details>\n";
}

// "2026-11-30 00:00–23:59 UTC" for the usual one-day report, else both ends in full.
std::string report_range(const std::string& begin, const std::string& end) {
  if (begin.size() > 11 && end.size() > 11 && begin.compare(0, 11, end, 0, 11) == 0 &&
      begin.ends_with(" UTC"))
    return begin.substr(0, begin.size() - 4) + "\xE2\x80\x93" + end.substr(11);
  return begin + " to " + end;
}

std::string domain_body(const store::domain_detail& d, const page_context& ctx,
                        std::string_view heading_tag) {
  const auto& t = d.totals;
  std::string s = "<" + std::string(heading_tag) + " class=\"domain-title\">" +
                  text(d.policy_domain, 200) + "</" + std::string(heading_tag) + ">\n";
  s += range_line(d.days, d.from_day, d.to_day);
  s += "<ul class=\"cards\" aria-label=\"Totals\" data-domain=\"" + escape(d.policy_domain) + "\">";
  s += "<li><span class=\"v\" data-field=\"sessions\" data-value=\"" + std::to_string(t.sessions) +
       "\">" + count(t.sessions) + "</span><span class=\"k\">sessions</span></li>";
  s += "<li><span class=\"v\" data-field=\"failed_sessions\" data-value=\"" +
       std::to_string(t.failed_sessions) + "\">" + count(t.failed_sessions) +
       "</span><span class=\"k\">failed (" + rate(t.failed_sessions, t.sessions) + ")</span></li>";
  s += "<li><span class=\"v\">" + count(static_cast<std::int64_t>(t.reporters.size())) +
       "</span><span class=\"k\">reporters</span></li>";
  s += "<li><span class=\"v\">" + mode_cell(ctx, d.policy_domain) +
       "</span><span class=\"k\">MTA-STS mode</span></li>";
  s += "<li><span class=\"v\">" + detail::readiness_badge(ctx.monitor.get(), d.policy_domain) +
       "</span><span class=\"k\">readiness for enforce (" +
       (ctx.monitor && !ctx.monitor->error ? "as of " + escape(ctx.monitor->as_of)
                                           : std::string("not evaluated yet")) +
       ")</span></li></ul>\n";
  s += detail::findings_section(ctx.monitor.get(), d.policy_domain, nullptr, "h3");

  // Sessions per day, one chart per policy type.
  std::map<std::string, std::map<std::string, std::pair<std::int64_t, std::int64_t>>> by_type;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> per_day;
  for (const auto& x : d.by_type) {
    by_type[x.policy_type][x.day] = {x.successful, x.failed};
    per_day[x.day].first += x.successful;
    per_day[x.day].second += x.failed;
  }
  s += "<h3>Sessions per day</h3>\n";
  if (by_type.empty()) s += "<p>No sessions in this period.</p>\n";
  s += "<ul class=\"legend\"><li><i class=\"ok\"></i>successful</li><li><i "
       "class=\"fail\"></i>failed</li></ul>\n";
  for (const auto& [type, days] : by_type) {
    std::vector<charts::day_bar> b;
    std::vector<std::vector<std::string>> rows;
    std::int64_t ok = 0, bad = 0;
    for (const auto& day : d.days_list) {
      const auto it = days.find(day);
      const auto v = it == days.end() ? std::pair<std::int64_t, std::int64_t>{0, 0} : it->second;
      b.push_back({day, v.first, v.second});
      ok += v.first;
      bad += v.second;
      if (it != days.end()) rows.push_back({escape(day), count(v.first), count(v.second)});
    }
    const std::string title = "Policy type " + type + ": successful and failed sessions per day";
    s += "<h4>Policy type <code>" + text(type, 40) + "</code></h4>\n";
    s += charts::stacked_days(b, title,
                              count(ok) + " successful and " + count(bad) +
                                  " failed sessions from " + d.from_day + " to " + d.to_day + ".");
    s += data_table({"Day", "Successful", "Failed"}, rows, title);
  }

  // The failure rate against the threshold readiness uses.
  std::vector<charts::day_rate> rates;
  std::vector<std::vector<std::string>> rate_rows;
  int over = 0;
  for (const auto& day : d.days_list) {
    const auto it = per_day.find(day);
    if (it == per_day.end() || it->second.first + it->second.second == 0) {
      rates.push_back({day, std::nullopt});
      continue;
    }
    const auto [ok, bad] = it->second;
    const double r = static_cast<double>(bad) / static_cast<double>(ok + bad);
    if (r >= d.threshold) ++over;
    rates.push_back({day, r});
    rate_rows.push_back({escape(day), percent(r), count(bad), count(ok + bad)});
  }
  s += "<h3>Failure rate per day</h3>\n<ul class=\"legend\"><li><i class=\"fail\"></i>failure "
       "rate</li><li><i class=\"thr\"></i>threshold " +
       percent(d.threshold) + "</li></ul>\n";
  s += charts::rate_line(rates, d.threshold, "Daily failure rate against the threshold",
                         std::to_string(over) + " of " + std::to_string(rate_rows.size()) +
                             " days with sessions reached the threshold of " +
                             percent(d.threshold) + ".");
  s += data_table({"Day", "Failure rate", "Failed", "Sessions"}, rate_rows, "Daily failure rate");

  // Failures by result type, then MX and reporter, with what each means.
  s += "<h3>Failures</h3>\n";
  if (d.failures.empty()) {
    s += "<p>No failure details reported in this period.</p>\n";
  } else {
    std::vector<std::string> types;
    std::map<std::string, std::int64_t> type_total;
    for (const auto& f : d.failures) {
      if (!type_total.count(f.result_type)) types.push_back(f.result_type);
      type_total[f.result_type] += f.failed_sessions;
    }
    for (const auto& type : types) {
      const auto e = ctx.explain ? ctx.explain(type) : explanation{};
      s += "<h4><code>" + text(type, 60) + "</code>: " + count(type_total[type]) +
           " failed sessions</h4>\n<div class=\"explain\"><p><strong>What it means:</strong> " +
           escape(e.meaning) + "</p><p><strong>What to check:</strong> " + escape(e.to_check) +
           "</p></div>\n<div class=\"scroll\"><table class=\"failures\"><thead><tr><th "
           "scope=\"col\">Receiving MX</th><th scope=\"col\">Reporter</th><th scope=\"col\" "
           "class=\"n\">Failed sessions</th><th scope=\"col\" class=\"n\">Reports</th><th "
           "scope=\"col\">Latest day</th></tr></thead><tbody>\n";
      for (const auto& f : d.failures) {
        if (f.result_type != type) continue;
        s += "<tr data-result-type=\"" + escape(f.result_type) + "\"><td class=\"name\">" +
             (f.receiving_mx_hostname ? text(*f.receiving_mx_hostname, 100)
                                      : std::string("<span class=\"muted\">not given</span>")) +
             "</td><td class=\"name\">" + text(f.reporter) + "</td>" +
             num_cell(f.failed_sessions, "failed_sessions") + num_cell(f.reports, "reports") +
             "<td>" + escape(f.last_day) + "</td></tr>\n";
      }
      s += "</tbody></table></div>\n";
    }
  }

  // Readiness day by day: when enforce would have been safe.
  std::map<std::string, const store::readiness_day*> rd;
  for (const auto& r : d.readiness) rd[r.day] = &r;
  std::vector<charts::day_cell> cells;
  int ready = 0, with_data = 0;
  std::string last_not_ready;
  for (const auto& day : d.days_list) {
    const auto it = rd.find(day);
    if (it == rd.end() || it->second->result == store::verdict::no_data) {
      cells.push_back({day, charts::day_state::no_data, "no data"});
      continue;
    }
    ++with_data;
    const auto& r = *it->second;
    if (r.result == store::verdict::ready) {
      ++ready;
      cells.push_back({day, charts::day_state::ready, "ready, " + count(r.sessions) + " sessions"});
    } else {
      last_not_ready = day;
      cells.push_back({day, charts::day_state::not_ready,
                       "not ready: " + count(r.blocking_failed_sessions) +
                           " sessions enforce would block, " + count(r.policy_error_sessions) +
                           " policy errors, of " + count(r.sessions)});
    }
  }
  const std::string summary_line =
      "Ready for enforce on " + std::to_string(ready) + " of " + std::to_string(with_data) +
      " days with data" +
      (last_not_ready.empty() ? std::string(".") : "; last day not ready: " + last_not_ready + ".");
  s += "<h3>Readiness for enforce, day by day</h3>\n<p>" + escape(summary_line) +
       " A day is ready when it has MTA-STS sessions and fewer than " + percent(d.threshold) +
       " of its sessions failed in a way that an enforced policy would turn into a refused "
       "delivery.</p>\n<ul class=\"legend\"><li><i class=\"ok\"></i>ready</li><li><i "
       "class=\"fail\"></i>not ready</li><li><i class=\"none\"></i>no data</li></ul>\n";
  s += charts::timeline(cells, "Readiness per day", summary_line);

  // Recent reports, each with its raw JSON.
  s += "<h3>Recent reports</h3>\n";
  if (d.recent.empty()) {
    s += "<p>No report in this period.</p>\n";
  } else {
    s += "<div class=\"scroll\"><table class=\"recent\"><thead><tr><th scope=\"col\">Reporter</th>"
         "<th scope=\"col\">Report ID</th><th scope=\"col\">Range</th><th scope=\"col\" "
         "class=\"n\">Sessions</th><th scope=\"col\" class=\"n\">Failed</th><th "
         "scope=\"col\">Raw JSON</th></tr></thead><tbody>\n";
    for (const auto& r : d.recent) {
      s += "<tr><td class=\"name\">" + text(r.reporter, 80) + "</td><td class=\"name\">" +
           text(r.report_id, 60) + "</td><td>" + escape(report_range(r.date_begin, r.date_end)) +
           "</td>" + num_cell(r.sessions, "sessions") +
           num_cell(r.failed_sessions, "failed_sessions") + "<td><details><summary>show (" +
           count(static_cast<std::int64_t>(r.raw_json_size)) + " bytes)</summary><pre>" +
           escape(r.raw_json) +
           (r.raw_json.size() < r.raw_json_size ? "\n… (cut)" : std::string()) +
           "</pre></details></td></tr>\n";
    }
    s += "</tbody></table></div>\n";
  }
  return s;
}

std::string messages_body(const store::messages_page& m) {
  std::string s = "<h1>Rejected and skipped messages</h1>\n<p class=\"range\">" + count(m.total) +
                  " in the ledger";
  if (static_cast<std::int64_t>(m.rows.size()) < m.total)
    s += "; the newest " + count(static_cast<std::int64_t>(m.rows.size())) + " shown";
  s += ". <code>tlsrpt-collector reprocess</code> retries the rejected ones after an "
       "upgrade.</p>\n";
  if (m.rows.empty()) return s + "<p>None: every message was stored or was no report.</p>\n";
  s += "<div class=\"scroll\"><table id=\"message-table\"><caption>Newest first</caption><thead>"
       "<tr><th scope=\"col\">Last seen</th><th scope=\"col\">Outcome</th><th "
       "scope=\"col\">Source</th><th scope=\"col\">From</th><th scope=\"col\">Subject</th><th "
       "scope=\"col\">Error</th><th scope=\"col\" class=\"n\">Size</th></tr></thead><tbody>\n";
  for (const auto& r : m.rows) {
    std::string where = text(r.source, 60);
    if (!r.folder.empty()) where += " · " + text(r.folder, 80);
    if (r.uid) where += " · UID " + std::to_string(*r.uid);
    s += "<tr data-outcome=\"" + escape(r.outcome) + "\"><td>" + escape(r.last_seen) + "</td><td>" +
         escape(r.outcome) + "</td><td class=\"name\">" + where + "</td><td class=\"name\">" +
         (r.sender ? text(*r.sender, 80) : std::string()) + "</td><td class=\"name\">" +
         (r.subject ? text(*r.subject, 100) : std::string()) + "</td><td class=\"name\">" +
         text(r.error, 300) + "</td>" +
         (r.size ? num_cell(*r.size, "size") : std::string("<td></td>")) + "</tr>\n";
  }
  return s + "</tbody></table></div>\n";
}

detail::nav_links nav(const page_context& ctx, std::string_view current) {
  return {escape(ctx.overview_href), escape(ctx.messages_href), current};
}

}  // namespace

page_context served_context(explainer explain, int days,
                            std::shared_ptr<const monitor_view> monitor) {
  page_context ctx;
  ctx.explain = std::move(explain);
  ctx.monitor = std::move(monitor);
  ctx.domain_href = [days](const std::string& d) {
    return "domain?name=" + html::url_component(d) + "&days=" + std::to_string(days);
  };
  ctx.overview_href = "./?days=" + std::to_string(days);
  ctx.messages_href = "messages";
  return ctx;
}

std::string overview_page(const store::overview& o, const page_context& ctx) {
  return detail::document("TLS reports: overview", nav(ctx, "overview"), overview_body(o, ctx),
                          o.generated_at);
}

std::string domain_page(const store::domain_detail& d, const page_context& ctx) {
  return detail::document("TLS reports: " + d.policy_domain.substr(0, 200), nav(ctx, "domain"),
                          domain_body(d, ctx, "h1"), d.generated_at);
}

std::string messages_page(const store::messages_page& m, const page_context& ctx) {
  return detail::document("TLS reports: messages", nav(ctx, "messages"), messages_body(m),
                          m.generated_at);
}

std::string not_found_page(std::string_view what, const page_context& ctx) {
  return message_page("Not found", what, ctx);
}

std::string message_page(std::string_view title, std::string_view text, const page_context& ctx) {
  return detail::document(
      title, nav(ctx, ""),
      "<h1>" + html::escape(title) + "</h1>\n<p>" + html::text(text, 400) + "</p>\n", "");
}

std::string report_file(const store::overview& o, const std::vector<store::domain_detail>& domains,
                        const store::messages_page& m, explainer explain,
                        std::shared_ptr<const monitor_view> monitor) {
  std::map<std::string, std::string> anchors;
  for (std::size_t i = 0; i < domains.size(); ++i)
    anchors[domains[i].policy_domain] = "#domain-" + std::to_string(i + 1);
  page_context ctx;
  ctx.explain = std::move(explain);
  ctx.monitor = std::move(monitor);
  ctx.single_file = true;
  ctx.domain_href = [anchors](const std::string& d) {
    const auto it = anchors.find(d);
    return it == anchors.end() ? std::string("#domains") : it->second;
  };
  ctx.overview_href = "#overview";
  ctx.messages_href = "#messages";
  std::string body = "<div id=\"overview\">" + overview_body(o, ctx) + "</div>\n";
  for (std::size_t i = 0; i < domains.size(); ++i)
    body += "<section class=\"domain\" id=\"domain-" + std::to_string(i + 1) + "\">\n" +
            domain_body(domains[i], ctx, "h2") +
            "<p><a href=\"#overview\">Back to the overview</a></p></section>\n";
  body += "<section id=\"messages\">\n" + messages_body(m) + "</section>\n";
  return detail::document("TLS reports " + o.from_day + " to " + o.to_day, nav(ctx, "overview"),
                          body, o.generated_at);
}

}  // namespace tlsrpt::dashboard
