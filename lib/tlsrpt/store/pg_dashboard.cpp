// SPDX-License-Identifier: Apache-2.0
// The dashboard's queries. They read the daily rollups rather than the raw tables: the
// overview the coarse ones of migration 0009 (per day and domain, per day, domain and
// reporter), a domain's page those of 0004 for that domain. The recent reports and the
// messages are the only reads of the raw tables, each bounded by an index and a LIMIT. The
// readiness badges and the findings are not read here: they are the findings engine's
// (dashboard/monitor_view.hpp). BENCHMARKS.md has the figures for a million reports.
#include "tlsrpt/store/dashboard.hpp"

#include <algorithm>
#include <map>

#include "tlsrpt/store/monitor_store.hpp"  // normalize_domain()
#include "tlsrpt/store/pq_detail.hpp"

namespace tlsrpt::store {

namespace {

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

std::int64_t i64(const pqxx::field& f) { return f.is_null() ? 0 : f.as<std::int64_t>(); }

verdict verdict_of(const pqxx::field& f) {
  const std::string v = f.is_null() ? std::string() : f.as<std::string>();
  if (v == "ready") return verdict::ready;
  if (v == "not-ready") return verdict::not_ready;
  return verdict::no_data;
}

// The window's first day, as `summary` counts it (day >= today - days).
constexpr const char* window_start = "((now() AT TIME ZONE 'UTC')::date - $1::int)";
constexpr const char* utc_minute = "'YYYY-MM-DD HH24:MI \"UTC\"'";

std::string sql(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (const auto p : parts) s += p;
  return s;
}

}  // namespace

struct pg_dashboard::impl : detail::lazy_connection {
  void read_window(pqxx::transaction_base& tx, int days, std::string& generated, std::string& from,
                   std::string& to) {
    const auto r = exec(tx, "dashboard_window",
                        sql({"SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
                             " || ' UTC', ",
                             window_start, "::text, (now() AT TIME ZONE 'UTC')::date::text"}),
                        days);
    generated = r[0][0].as<std::string>();
    from = r[0][1].as<std::string>();
    to = r[0][2].as<std::string>();
  }

  // The per-domain part of the overview; `domain` restricts it to one.
  std::vector<domain_overview> read_domains(pqxx::transaction_base& tx, const dashboard_options& o,
                                            const std::optional<std::string>& domain);
};

std::vector<domain_overview> pg_dashboard::impl::read_domains(
    pqxx::transaction_base& tx, const dashboard_options& o,
    const std::optional<std::string>& domain) {
  std::vector<domain_overview> out;
  // Keyed by the domain, with "\x01" standing for the reports without one (NULL), which no
  // stored domain can be equal to: the store keeps no control characters in domains.
  std::map<std::string, std::size_t> index;
  const auto key = [](const pqxx::field& f) {
    return f.is_null() ? std::string("\x01") : f.as<std::string>();
  };
  const std::string domain_filter = " AND ($2::text IS NULL OR policy_domain = $2)";

  for (const auto& r :
       exec(tx, "dashboard_domains",
            sql({"SELECT policy_domain, sum(reports)::bigint,"
                 " sum(successful_sessions + failed_sessions)::bigint,"
                 " sum(successful_sessions)::bigint, sum(failed_sessions)::bigint"
                 " FROM tlsrpt.daily_domain_rollup WHERE day >= ",
                 window_start, domain_filter, " GROUP BY 1 ORDER BY 3 DESC, 1 NULLS LAST"}),
            o.days, domain)) {
    domain_overview d;
    d.policy_domain = opt_text(r[0]);
    d.reports = i64(r[1]);
    d.sessions = i64(r[2]);
    d.successful_sessions = i64(r[3]);
    d.failed_sessions = i64(r[4]);
    index[key(r[0])] = out.size();
    out.push_back(std::move(d));
  }
  if (out.empty()) return out;

  for (const auto& r : exec(tx, "dashboard_reporters",
                            sql({"SELECT policy_domain, reporter, max(day)::text,"
                                 " sum(successful_sessions + failed_sessions)::bigint"
                                 " FROM tlsrpt.daily_reporter_rollup WHERE day >= ",
                                 window_start, domain_filter, " GROUP BY 1, 2 ORDER BY 1, 2"}),
                            o.days, domain)) {
    const auto it = index.find(key(r[0]));
    if (it == index.end()) continue;
    out[it->second].reporters.push_back(
        {r[1].as<std::string>(), r[2].as<std::string>(), i64(r[3])});
  }

  // Every day of the sparkline, so a silent day shows as a gap rather than vanishing.
  std::vector<std::string> days;
  for (const auto& r : exec(tx, "dashboard_spark_days",
                            sql({"SELECT d::date::text FROM generate_series(", window_start,
                                 ", (now() AT TIME ZONE 'UTC')::date, '1 day') AS d ORDER BY 1"}),
                            o.sparkline_days - 1))
    days.push_back(r[0].as<std::string>());
  for (auto& d : out)
    for (const auto& day : days) d.sparkline.push_back({day, 0, 0});
  for (const auto& r :
       exec(tx, "dashboard_sparkline",
            sql({"SELECT policy_domain, day::text, sum(successful_sessions)::bigint,"
                 " sum(failed_sessions)::bigint FROM tlsrpt.daily_domain_rollup"
                 " WHERE day >= ",
                 window_start, domain_filter, " GROUP BY 1, 2"}),
            o.sparkline_days - 1, domain)) {
    const auto it = index.find(key(r[0]));
    if (it == index.end()) continue;
    auto& spark = out[it->second].sparkline;
    const std::string day = r[1].as<std::string>();
    const auto pos = std::lower_bound(days.begin(), days.end(), day);
    if (pos == days.end() || *pos != day) continue;
    auto& cell = spark[static_cast<std::size_t>(pos - days.begin())];
    cell.successful = i64(r[2]);
    cell.failed = i64(r[3]);
  }

  return out;
}

pg_dashboard::pg_dashboard(std::string url) : impl_(std::make_unique<impl>()) {
  impl_->url = std::move(url);
}
pg_dashboard::~pg_dashboard() = default;

overview pg_dashboard::read_overview(const dashboard_options& o) {
  return impl_->guarded("read the dashboard overview", [&] {
    overview ov;
    ov.days = o.days;
    ov.threshold = o.threshold;
    pqxx::read_transaction tx(impl_->connection(), "dashboard");
    impl_->read_window(tx, o.days, ov.generated_at, ov.from_day, ov.to_day);
    std::optional<std::string> domain;
    if (o.domain) domain = normalize_domain(*o.domain);
    ov.domains = impl_->read_domains(tx, o, domain);
    for (const auto& r :
         impl_->exec(tx, "dashboard_mailboxes",
                     sql({"SELECT source, to_char(max(last_seen) AT TIME ZONE 'UTC', ", utc_minute,
                          "), count(*), count(*) FILTER (WHERE outcome = 'rejected'),"
                          " count(*) FILTER (WHERE outcome = 'skipped'),"
                          " count(*) FILTER (WHERE outcome IS NULL)"
                          " FROM tlsrpt.messages GROUP BY 1 ORDER BY 1"}))) {
      mailbox_health m;
      m.source = r[0].as<std::string>();
      m.last_seen = opt_text(r[1]).value_or("");
      m.messages = i64(r[2]);
      m.rejected = i64(r[3]);
      m.skipped = i64(r[4]);
      m.pending = i64(r[5]);
      ov.rejected_messages += m.rejected + m.skipped;
      ov.mailboxes.push_back(std::move(m));
    }
    return ov;
  });
}

std::optional<domain_detail> pg_dashboard::read_domain(const std::string& policy_domain,
                                                       const dashboard_options& o) {
  return impl_->guarded("read the dashboard domain page", [&]() -> std::optional<domain_detail> {
    domain_detail d;
    d.policy_domain = normalize_domain(policy_domain);
    d.days = o.days;
    d.threshold = o.threshold;
    pqxx::read_transaction tx(impl_->connection(), "dashboard");
    impl_->read_window(tx, o.days, d.generated_at, d.from_day, d.to_day);
    auto totals = impl_->read_domains(tx, o, d.policy_domain);
    if (totals.empty()) {
      // Nothing in the window: still a page if the domain was ever seen.
      const auto seen =
          impl_->exec(tx, "dashboard_domain_seen",
                      "SELECT EXISTS (SELECT 1 FROM tlsrpt.daily_rollup WHERE policy_domain = $1)",
                      d.policy_domain);
      if (!seen[0][0].as<bool>()) return std::nullopt;
      d.totals.policy_domain = d.policy_domain;
    } else {
      d.totals = std::move(totals.front());
    }
    for (const auto& r :
         impl_->exec(tx, "dashboard_days",
                     sql({"SELECT d::date::text FROM generate_series(", window_start,
                          ", (now() AT TIME ZONE 'UTC')::date, '1 day') AS d ORDER BY 1"}),
                     o.days))
      d.days_list.push_back(r[0].as<std::string>());
    for (const auto& r :
         impl_->exec(tx, "dashboard_by_type",
                     sql({"SELECT policy_type, day::text, sum(successful_sessions)::bigint,"
                          " sum(failed_sessions)::bigint FROM tlsrpt.daily_rollup"
                          " WHERE policy_domain = $2 AND day >= ",
                          window_start, " GROUP BY 1, 2 ORDER BY 1, 2"}),
                     o.days, d.policy_domain))
      d.by_type.push_back({r[0].as<std::string>(), r[1].as<std::string>(), i64(r[2]), i64(r[3])});
    for (const auto& r :
         impl_->exec(tx, "dashboard_failures",
                     sql({"SELECT result_type, receiving_mx_hostname, reporter,"
                          " sum(failed_sessions)::bigint, sum(reports)::bigint, max(day)::text"
                          " FROM tlsrpt.daily_failure_rollup WHERE policy_domain = $2 AND day >= ",
                          window_start, " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT 200"}),
                     o.days, d.policy_domain))
      d.failures.push_back({r[0].as<std::string>(), opt_text(r[1]), r[2].as<std::string>(),
                            i64(r[3]), i64(r[4]), r[5].as<std::string>()});
    for (const auto& r : impl_->exec(
             tx, "dashboard_readiness_days",
             sql({"SELECT day::text, tlsrpt.readiness_verdict(sessions, sts_sessions,"
                  " blocking_failed_sessions, policy_error_sessions, $3), sessions,"
                  " blocking_failed_sessions, policy_error_sessions FROM tlsrpt.daily_readiness"
                  " WHERE policy_domain = $2 AND day >= ",
                  window_start, " ORDER BY 1"}),
             o.days, d.policy_domain, o.threshold))
      d.readiness.push_back(
          {r[0].as<std::string>(), verdict_of(r[1]), i64(r[2]), i64(r[3]), i64(r[4])});
    // The newest reports that cover the domain, walking the date_begin index backwards.
    for (const auto& r : impl_->exec(
             tx, "dashboard_recent",
             sql({"SELECT r.id, r.reporter, r.report_id,"
                  " to_char(r.date_begin AT TIME ZONE 'UTC', ",
                  utc_minute, "), to_char(r.date_end AT TIME ZONE 'UTC', ", utc_minute,
                  "), s.sessions, s.failed, left(jsonb_pretty(r.raw_json), $4::int),"
                  " octet_length(r.raw_json::text)"
                  " FROM tlsrpt.reports r"
                  " CROSS JOIN LATERAL (SELECT sum(p.successful_sessions + p.failed_sessions)"
                  "   ::bigint AS sessions, sum(p.failed_sessions)::bigint AS failed"
                  "   FROM tlsrpt.policies p WHERE p.report_ref = r.id AND p.policy_domain = $2)"
                  "  s"
                  " WHERE r.date_begin >= ",
                  window_start,
                  "::timestamp AT TIME ZONE 'UTC' AND s.sessions IS NOT NULL"
                  " ORDER BY r.date_begin DESC, r.id DESC LIMIT $3"}),
             o.days, d.policy_domain, o.recent_reports, static_cast<int>(o.raw_json_limit))) {
      recent_report rr;
      rr.id = i64(r[0]);
      rr.reporter = r[1].as<std::string>();
      rr.report_id = r[2].as<std::string>();
      rr.date_begin = r[3].as<std::string>();
      rr.date_end = r[4].as<std::string>();
      rr.sessions = i64(r[5]);
      rr.failed_sessions = i64(r[6]);
      rr.raw_json = opt_text(r[7]).value_or("");
      // left() counts characters; the limit is a promise in bytes.
      if (rr.raw_json.size() > o.raw_json_limit) rr.raw_json.resize(o.raw_json_limit);
      rr.raw_json_size = static_cast<std::size_t>(i64(r[8]));
      d.recent.push_back(std::move(rr));
    }
    return d;
  });
}

messages_page pg_dashboard::read_messages(const dashboard_options& o) {
  return impl_->guarded("read the dashboard messages", [&] {
    messages_page p;
    pqxx::read_transaction tx(impl_->connection(), "dashboard");
    std::string from, to;
    impl_->read_window(tx, o.days, p.generated_at, from, to);
    p.total = i64(impl_->exec(tx, "dashboard_messages_count",
                              "SELECT count(*) FROM tlsrpt.messages"
                              " WHERE outcome IN ('rejected', 'skipped')")[0][0]);
    for (const auto& r : impl_->exec(
             tx, "dashboard_messages",
             sql({"SELECT id, source, folder, uid, sender, subject, outcome, coalesce(error, ''),"
                  " to_char(last_seen AT TIME ZONE 'UTC', ",
                  utc_minute,
                  "), size, attempts FROM tlsrpt.messages"
                  " WHERE outcome IN ('rejected', 'skipped')"
                  " ORDER BY last_seen DESC, id DESC LIMIT $1"}),
             o.messages)) {
      message_row m;
      m.id = i64(r[0]);
      m.source = r[1].as<std::string>();
      m.folder = r[2].as<std::string>();
      if (!r[3].is_null()) m.uid = i64(r[3]);
      m.sender = opt_text(r[4]);
      m.subject = opt_text(r[5]);
      m.outcome = r[6].as<std::string>();
      m.error = r[7].as<std::string>();
      m.last_seen = r[8].as<std::string>();
      if (!r[9].is_null()) m.size = i64(r[9]);
      m.attempts = static_cast<int>(i64(r[10]));
      p.rows.push_back(std::move(m));
    }
    return p;
  });
}

}  // namespace tlsrpt::store
