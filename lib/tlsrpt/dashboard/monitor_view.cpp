// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dashboard/monitor_view.hpp"

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <mutex>

#include "tlsrpt/dashboard/html.hpp"
#include "tlsrpt/store/monitor_store.hpp"

namespace tlsrpt::dashboard {

namespace {

std::string utc_minute(std::chrono::sys_seconds t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

const store::sts_readiness* find(const monitor_view* v, const std::string& domain) {
  if (v == nullptr) return nullptr;
  const auto it = v->readiness.find(domain);
  return it == v->readiness.end() ? nullptr : &it->second;
}

}  // namespace

monitor_view evaluate_monitor(const std::string& database_url, const config::alert_rules& rules) {
  monitor_view v;
  try {
    store::pg_monitor db(database_url);
    const auto options = monitor::facts_options_for(rules);
    const auto facts = db.read_facts(options);
    v.as_of = utc_minute(facts.as_of);
    v.findings = monitor::evaluate(facts, rules);
    for (const auto& r : facts.readiness) v.readiness[r.policy_domain] = r;
    // The host of the top blocking type, over the readiness window's days.
    std::map<std::pair<std::string, std::string>, std::int64_t> by_host;
    const int first = facts.today - options.readiness.days;
    for (const auto& f : facts.failures) {
      if (f.day < first || !f.mx_host) continue;
      const auto* r = find(&v, f.policy_domain);
      if (r == nullptr || r->blocking_result_types.empty() ||
          r->blocking_result_types.front() != f.result_type)
        continue;
      by_host[{f.policy_domain, *f.mx_host}] += f.failed;
    }
    std::map<std::string, std::int64_t> best;
    for (const auto& [k, n] : by_host) {
      auto [it, fresh] = best.try_emplace(k.first, n);
      if (fresh || n > it->second) {
        it->second = n;
        v.worst_mx[k.first] = k.second;
      }
    }
  } catch (const std::exception& e) {
    v = monitor_view{};
    v.error = e.what();
  }
  return v;
}

struct monitor_snapshot::state {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  bool done = false;  // the thread has left its loop
  std::shared_ptr<const monitor_view> latest;
};

namespace {

// A failed evaluation (the database away) is retried sooner than a good one is redone.
constexpr std::chrono::milliseconds retry_failed{std::chrono::seconds(10)};

void refresh_loop(const std::shared_ptr<monitor_snapshot::state>& st,
                  const std::function<monitor_view()>& evaluate, std::chrono::milliseconds every) {
  std::unique_lock lock(st->mutex);
  while (!st->stop) {
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    std::shared_ptr<const monitor_view> fresh;
    try {
      fresh = std::make_shared<const monitor_view>(evaluate());
    } catch (const std::exception& e) {
      monitor_view failed;
      failed.error = e.what();
      fresh = std::make_shared<const monitor_view>(std::move(failed));
    } catch (...) {
      monitor_view failed;
      failed.error = "unknown error";
      fresh = std::make_shared<const monitor_view>(std::move(failed));
    }
    // An evaluation reads the raw tables (two minutes for a million reports on a loaded
    // machine, BENCHMARKS.md): never spend more than a fifth of the time on it.
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    lock.lock();
    const auto pause = fresh->error ? std::min(every, retry_failed) : std::max(every, 4 * took);
    st->latest = std::move(fresh);
    st->wake.wait_for(lock, pause, [&] { return st->stop; });
  }
  st->done = true;
  st->wake.notify_all();
}

}  // namespace

monitor_snapshot::monitor_snapshot(std::function<monitor_view()> evaluate,
                                   std::chrono::milliseconds every)
    : state_(std::make_shared<state>()),
      thread_([st = state_, evaluate = std::move(evaluate), every] {
        try {
          refresh_loop(st, evaluate, every);
        } catch (...) {
          // Only a failing mutex could get here; the pages then say "not evaluated yet".
        }
      }) {}

monitor_snapshot::~monitor_snapshot() {
  std::unique_lock lock(state_->mutex);
  state_->stop = true;
  state_->wake.notify_all();
  const bool ended =
      state_->wake.wait_for(lock, std::chrono::milliseconds(500), [this] { return state_->done; });
  lock.unlock();
  if (ended)
    thread_.join();
  else
    thread_.detach();
}

std::shared_ptr<const monitor_view> monitor_snapshot::latest() const {
  const std::lock_guard lock(state_->mutex);
  return state_->latest;
}

namespace detail {

std::optional<std::string> sts_mode(const monitor_view* v, const std::string& policy_domain) {
  const auto* r = find(v, policy_domain);
  return r ? r->sts_mode : std::nullopt;
}

std::string readiness_badge(const monitor_view* v, const std::string& policy_domain) {
  using html::text;
  if (v == nullptr || v->error)
    return "<span class=\"badge no-data\" data-verdict=\"pending\">not evaluated yet</span>";
  const auto* r = find(v, policy_domain);
  if (r == nullptr || r->result == store::verdict::no_data)
    return "<span class=\"badge no-data\" data-verdict=\"no-data\">no data</span>";
  if (r->result == store::verdict::ready)
    return "<span class=\"badge ready\" data-verdict=\"ready\">ready</span>";
  // Every reason in words beside the badge; the badge itself names the one that weighs most.
  std::string why;
  for (const auto& reason : r->reasons) why += (why.empty() ? "" : "; ") + reason;
  const auto missing = [&](std::string_view k) {
    return std::find(r->missing.begin(), r->missing.end(), k) != r->missing.end();
  };
  std::string label;
  std::string cls = "not-ready";
  if (missing("failure-rate") || missing("recent-failures")) {
    label = "not ready";
    if (!r->blocking_result_types.empty()) {
      label += ": " + text(r->blocking_result_types.front(), 60);
      const auto mx = v->worst_mx.find(policy_domain);
      if (mx != v->worst_mx.end()) label += " on " + text(mx->second, 60);
    }
  } else if (missing("sts-policy")) {
    label = "not ready: no MTA-STS policy seen";
  } else if (missing("days")) {
    // Only time is missing (and perhaps reporters): how far along the domain is.
    cls = "partial";
    label = std::to_string(r->observed_days) + " of " + std::to_string(r->min_days) + " days";
  } else {
    label = "not ready: " + text(r->reasons.empty() ? std::string() : r->reasons.front(), 80);
  }
  return "<span class=\"badge " + cls + "\" data-verdict=\"not-ready\">" + label +
         "</span><span class=\"why\">" + text(why, 600) + "</span>";
}

std::string findings_section(const monitor_view* v, const std::optional<std::string>& domain,
                             const std::function<std::string(const std::string&)>& domain_href,
                             std::string_view heading_tag) {
  using html::escape;
  using html::text;
  const std::string h(heading_tag);
  std::string s = "<" + h + " id=\"findings\">Open findings</" + h + ">\n";
  if (v == nullptr)
    return s +
           "<p class=\"range\" data-findings=\"pending\">Being evaluated; reload the page "
           "in a moment.</p>\n";
  if (v->error)
    return s +
           "<p class=\"range\" data-findings=\"error\">The findings cannot be evaluated "
           "now: " +
           text(*v->error, 300) + "</p>\n";
  std::vector<const monitor::finding*> shown;
  for (const auto& f : v->findings)
    if (!domain || f.policy_domain == domain) shown.push_back(&f);
  std::size_t critical = 0;
  for (const auto* f : shown) critical += f->level == config::severity::critical ? 1 : 0;
  s += "<p class=\"range\" data-findings=\"" + std::to_string(shown.size()) + "\">As of <time>" +
       escape(v->as_of) + "</time>: " + std::to_string(critical) + " critical, " +
       std::to_string(shown.size() - critical) +
       " warning, by the rules of <code>tlsrpt-collector check</code> (alerts.rules).";
  // Critical first (the engine's order): a page of a hundred rows stays readable; `check`
  // lists them all.
  constexpr std::size_t max_rows = 100;
  if (shown.size() > max_rows) {
    s += " The first " + std::to_string(max_rows) + " are shown; <code>tlsrpt-collector check" +
         (domain ? " --domain " + text(*domain, 120) : std::string()) + "</code> lists all " +
         std::to_string(shown.size()) + ".";
    shown.resize(max_rows);
  }
  s += "</p>\n";
  if (shown.empty()) return s + "<p>No open findings.</p>\n";
  s += "<div class=\"scroll\"><table id=\"finding-table\"><caption>Critical first; what each "
       "means and what to check under each title</caption><thead><tr><th "
       "scope=\"col\">Severity</th>" +
       std::string(domain ? "" : "<th scope=\"col\">Policy domain</th>") +
       "<th scope=\"col\">Finding</th><th scope=\"col\">What to check</th></tr></thead><tbody>\n";
  for (const auto* f : shown) {
    const std::string level(config::to_string(f->level));
    s += "<tr data-severity=\"" + level + "\" data-rule=\"" + escape(f->rule) + "\"><td>" +
         "<span class=\"badge " + (level == "critical" ? "not-ready" : "partial") + "\">" + level +
         "</span></td>";
    if (!domain) {
      s += "<td class=\"name\">";
      if (!f->policy_domain)
        s += "<span class=\"muted\">collector</span>";
      else if (domain_href)
        s += "<a href=\"" + escape(domain_href(*f->policy_domain)) + "\">" +
             text(*f->policy_domain, 120) + "</a>";
      else
        s += text(*f->policy_domain, 120);
      s += "</td>";
    }
    s += "<td class=\"name\"><details class=\"finding\"><summary>" + text(f->title, 300) +
         "</summary><p>" + text(f->meaning, 600) + "</p></details></td><td class=\"name\">" +
         text(f->to_check, 600) + "</td></tr>\n";
  }
  return s + "</tbody></table></div>\n";
}

}  // namespace detail

}  // namespace tlsrpt::dashboard
