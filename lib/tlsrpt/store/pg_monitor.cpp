// SPDX-License-Identifier: Apache-2.0
// The SQL of the findings engine (monitor_store.hpp). Readiness comes from the migration's
// tlsrpt.sts_readiness_at(); the rest are plain aggregates that the engine's rules read, so
// that each rule is one C++ function tested at its edges without a database.
#include <pqxx/pqxx>

#include <algorithm>

#include "tlsrpt/store/monitor_store.hpp"
#include "tlsrpt/store/pq_detail.hpp"

namespace tlsrpt::store {

namespace {

seconds_clock from_epoch(const pqxx::field& f) {
  return seconds_clock(std::chrono::seconds(f.as<std::int64_t>()));
}

std::optional<seconds_clock> opt_epoch(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return from_epoch(f);
}

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

std::int64_t epoch(seconds_clock t) { return t.time_since_epoch().count(); }

// A text[] literal (libpqxx 6 has no array parameters). Keys are our own text, but quoting
// every element keeps a domain with a comma or quote in it one element.
std::string text_array_literal(const std::vector<std::string>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (const char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// Per policy: blocking = failed sessions of blocks_enforce() types plus failed sessions
// reported without details (as in sts_readiness_at()). The failure details are reached by
// their primary key (report_ref, policy_ref, position).
constexpr const char* days_sql =
    "SELECT p.policy_domain, r.reporter,"
    "  ((r.date_begin AT TIME ZONE 'UTC')::date - DATE '1970-01-01') AS day,"
    "  sum(p.successful_sessions + p.failed_sessions)::bigint,"
    "  sum(p.failed_sessions)::bigint,"
    "  sum(coalesce(d.blocking, 0) + greatest(p.failed_sessions - coalesce(d.detailed, 0), 0))"
    "    ::bigint"
    " FROM tlsrpt.policies p"
    " JOIN tlsrpt.reports r ON r.id = p.report_ref"
    " LEFT JOIN LATERAL (SELECT sum(f.failed_sessions) AS detailed,"
    "    sum(f.failed_sessions) FILTER (WHERE tlsrpt.blocks_enforce(f.result_type)) AS blocking"
    "    FROM tlsrpt.failure_details f"
    "    WHERE f.report_ref = p.report_ref AND f.policy_ref = p.id) d ON true"
    " WHERE r.date_begin >= (to_timestamp($1) AT TIME ZONE 'UTC')::date - $2::integer"
    "   AND r.date_begin < to_timestamp($1)"
    "   AND p.policy_domain IS NOT NULL AND ($3::text IS NULL OR p.policy_domain = $3)"
    " GROUP BY 1, 2, 3";

constexpr const char* failures_sql =
    "SELECT p.policy_domain, r.reporter,"
    "  ((r.date_begin AT TIME ZONE 'UTC')::date - DATE '1970-01-01') AS day,"
    "  f.result_type, f.receiving_mx_hostname,"
    "  coalesce(host(f.receiving_ip), f.receiving_ip_raw), sum(f.failed_sessions)::bigint"
    " FROM tlsrpt.failure_details f"
    " JOIN tlsrpt.policies p ON p.id = f.policy_ref"
    " JOIN tlsrpt.reports r ON r.id = f.report_ref"
    " WHERE r.date_begin >= (to_timestamp($1) AT TIME ZONE 'UTC')::date - $2::integer"
    "   AND r.date_begin < to_timestamp($1)"
    "   AND p.policy_domain IS NOT NULL AND ($3::text IS NULL OR p.policy_domain = $3)"
    " GROUP BY 1, 2, 3, 4, 5, 6";

}  // namespace

std::string normalize_domain(std::string d) {
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char ch) {
    return static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  });
  while (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

struct pg_monitor::impl : detail::lazy_connection {
  static alert_row alert_of(const pqxx::row& r) {
    alert_row a;
    a.id = r[0].as<std::int64_t>();
    a.key = r[1].as<std::string>();
    a.rule = r[2].as<std::string>();
    a.severity = r[3].as<std::string>();
    a.policy_domain = opt_text(r[4]);
    a.title = r[5].as<std::string>();
    a.opened = from_epoch(r[6]);
    a.resolved = opt_epoch(r[7]);
    a.last_notified = opt_epoch(r[8]);
    a.payload = r[9].as<std::string>();
    a.meaning = r[10].as<std::string>();
    a.to_check = r[11].as<std::string>();
    return a;
  }
};

namespace {
constexpr const char* alert_columns =
    "a.id, a.key, a.rule, a.severity, a.policy_domain, a.title,"
    " extract(epoch FROM a.opened)::bigint, extract(epoch FROM a.resolved)::bigint,"
    " extract(epoch FROM a.last_notified)::bigint, a.payload::text,"
    " coalesce(a.payload->>'meaning', ''), coalesce(a.payload->>'what_to_check', '')";
}

pg_monitor::pg_monitor(std::string url) : impl_(std::make_unique<impl>()) {
  impl_->url = std::move(url);
}
pg_monitor::~pg_monitor() = default;

monitor_facts pg_monitor::read_facts(const facts_options& o) {
  return impl_->guarded("read the monitoring facts", [&] {
    std::optional<std::string> domain;
    if (o.domain) domain = normalize_domain(*o.domain);
    monitor_facts f;
    pqxx::read_transaction tx(impl_->connection(), "monitor");
    {
      const auto row =
          impl_->exec(tx, "as_of",
                      "SELECT coalesce($1::bigint, extract(epoch FROM now())::bigint),"
                      " ((coalesce(to_timestamp($1::bigint), now()) AT TIME ZONE 'UTC')::date"
                      "  - DATE '1970-01-01')",
                      o.as_of ? std::optional<std::int64_t>(epoch(*o.as_of)) : std::nullopt)[0];
      f.as_of = from_epoch(row[0]);
      f.today = row[1].as<int>();
    }
    const std::int64_t at = epoch(f.as_of);
    for (const auto& r : impl_->exec(tx, "monitor_days", days_sql, at, o.history_days, domain)) {
      f.days.push_back({.policy_domain = r[0].as<std::string>(),
                        .reporter = r[1].as<std::string>(),
                        .day = r[2].as<int>(),
                        .sessions = r[3].as<std::int64_t>(),
                        .failed = r[4].as<std::int64_t>(),
                        .blocking = r[5].as<std::int64_t>()});
    }
    for (const auto& r :
         impl_->exec(tx, "monitor_failures", failures_sql, at, o.history_days, domain)) {
      f.failures.push_back({.policy_domain = r[0].as<std::string>(),
                            .reporter = r[1].as<std::string>(),
                            .day = r[2].as<int>(),
                            .result_type = r[3].as<std::string>(),
                            .mx_host = opt_text(r[4]),
                            .receiving_ip = opt_text(r[5]),
                            .failed = r[6].as<std::int64_t>()});
    }
    const std::string readiness_sql =
        std::string("SELECT ") + detail::readiness_columns +
        " FROM tlsrpt.sts_readiness_at(to_timestamp($1), $2, $3, $4, $5, $6)"
        " WHERE $7::text IS NULL OR policy_domain = $7 ORDER BY policy_domain";
    const auto& rr = o.readiness;
    for (const auto& r :
         impl_->exec(tx, "monitor_readiness", readiness_sql, at, rr.days, rr.threshold, rr.min_days,
                     rr.min_reporters, rr.quiet_days, domain))
      f.readiness.push_back(detail::readiness_of(r));
    for (const auto& r :
         impl_->exec(tx, "monitor_readiness", readiness_sql, at - 86400, rr.days, rr.threshold,
                     rr.min_days, rr.min_reporters, rr.quiet_days, domain))
      f.readiness_day_before.push_back(detail::readiness_of(r));
    for (const auto& r : impl_->exec(tx, "monitor_mailboxes",
                                     "SELECT mailbox, extract(epoch FROM last_pass)::bigint,"
                                     " extract(epoch FROM last_success)::bigint,"
                                     " extract(epoch FROM failing_since)::bigint, last_error"
                                     " FROM tlsrpt.mailbox_passes ORDER BY mailbox")) {
      f.mailboxes.push_back({.mailbox = r[0].as<std::string>(),
                             .last_pass = from_epoch(r[1]),
                             .last_success = opt_epoch(r[2]),
                             .failing_since = opt_epoch(r[3]),
                             .last_error = opt_text(r[4])});
    }
    {
      const auto row = impl_->exec(
          tx, "monitor_rejected",
          "SELECT count(*), (array_agg(error ORDER BY last_seen DESC))[1] FROM tlsrpt.messages"
          " WHERE outcome = 'rejected' AND last_seen > to_timestamp($1) - make_interval(days => "
          "$2) AND last_seen < to_timestamp($1) + interval '1 second'",
          at, o.window_days)[0];
      f.rejected = row[0].as<std::int64_t>();
      f.last_rejection = opt_text(row[1]);
    }
    return f;
  });
}

void pg_monitor::record_passes(const std::vector<pass_record>& passes) {
  if (passes.empty()) return;
  impl_->guarded("record the mailbox passes", [&] {
    pqxx::work tx(impl_->connection(), "passes");
    for (const auto& p : passes) {
      impl_->exec(
          tx, "record_pass",
          "INSERT INTO tlsrpt.mailbox_passes AS m"
          " (mailbox, last_pass, last_success, failing_since, last_error)"
          " VALUES ($1, now(), CASE WHEN $2 THEN now() END, CASE WHEN $2 THEN NULL ELSE now() END,"
          "  CASE WHEN $2 THEN NULL ELSE $3 END)"
          " ON CONFLICT (mailbox) DO UPDATE SET last_pass = now(),"
          "  last_success = CASE WHEN $2 THEN now() ELSE m.last_success END,"
          "  failing_since = CASE WHEN $2 THEN NULL ELSE coalesce(m.failing_since, now()) END,"
          "  last_error = CASE WHEN $2 THEN NULL ELSE $3 END",
          p.mailbox, p.ok, p.error);
    }
    tx.commit();
  });
}

alert_changes pg_monitor::sync_alerts(const std::vector<open_finding>& findings,
                                      const std::vector<std::string>& channels,
                                      const std::optional<std::string>& only_domain) {
  return impl_->guarded("update the alert state", [&] {
    alert_changes out;
    pqxx::work tx(impl_->connection(), "alerts");
    // One writer at a time (run and a `check --notify` from cron), so a finding opens once.
    impl_->exec(tx, "alerts_lock", "SELECT pg_advisory_xact_lock(hashtext('tlsrpt.alerts'))");
    std::optional<std::string> domain;
    if (only_domain) domain = normalize_domain(*only_domain);
    std::vector<std::string> keys;
    for (const auto& f : findings) {
      keys.push_back(f.key);
      const auto r = impl_->exec(
          tx, "alert_open",
          std::string("INSERT INTO tlsrpt.alerts AS a (key, rule, severity, policy_domain, title,"
                      " payload) VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
                      " ON CONFLICT (key) WHERE resolved IS NULL DO UPDATE SET last_seen = now(),"
                      " severity = EXCLUDED.severity, title = EXCLUDED.title,"
                      " payload = EXCLUDED.payload"
                      " RETURNING ") +
              alert_columns + ", (xmax = 0) AS fresh",
          f.key, f.rule, f.severity, f.policy_domain, f.title, f.payload);
      // xmax = 0: the row was inserted, not updated (the finding opened now).
      if (!r[0][12].as<bool>()) continue;
      alert_row a = impl::alert_of(r[0]);
      if (f.notify)
        for (const auto& ch : channels)
          impl_->exec(tx, "alert_delivery",
                      "INSERT INTO tlsrpt.alert_deliveries (alert_ref, channel, event)"
                      " VALUES ($1, $2, 'opened') ON CONFLICT DO NOTHING",
                      a.id, ch);
      out.opened.push_back(std::move(a));
    }
    const auto gone =
        impl_->exec(tx, "alert_resolve",
                    std::string("UPDATE tlsrpt.alerts a SET resolved = now()"
                                " WHERE a.resolved IS NULL AND NOT (a.key = ANY ($1::text[]))"
                                "   AND ($2::text IS NULL OR a.policy_domain = $2) RETURNING ") +
                        alert_columns,
                    text_array_literal(keys), domain);
    for (const auto& row : gone) {
      auto a = impl::alert_of(row);
      // The resolution goes to the channels its opening went to.
      impl_->exec(tx, "alert_delivery_resolved",
                  "INSERT INTO tlsrpt.alert_deliveries (alert_ref, channel, event)"
                  " SELECT alert_ref, channel, 'resolved' FROM tlsrpt.alert_deliveries"
                  " WHERE alert_ref = $1 AND event = 'opened' ON CONFLICT DO NOTHING",
                  a.id);
      out.resolved.push_back(std::move(a));
    }
    tx.commit();
    return out;
  });
}

std::vector<pending_delivery> pg_monitor::claim_deliveries(int limit, std::chrono::seconds lease) {
  return impl_->guarded("claim the pending notifications", [&] {
    std::vector<pending_delivery> out;
    pqxx::work tx(impl_->connection(), "due");
    // Claimed rows get a next_attempt `lease` ahead, in the same statement that reads them, and
    // rows another process holds are skipped (SKIP LOCKED): `run` and a `check --notify` from
    // cron never send the same notification both. A process that dies holding a claim leaves
    // it to be retried once the lease is over.
    for (const auto& r : impl_->exec(
             tx, "claim_deliveries",
             std::string(
                 "WITH due AS (SELECT alert_ref, channel, event FROM tlsrpt.alert_deliveries"
                 " WHERE delivered IS NULL AND next_attempt <= now()"
                 " ORDER BY alert_ref, event DESC, channel LIMIT $1 FOR UPDATE SKIP LOCKED),"
                 " claimed AS (UPDATE tlsrpt.alert_deliveries d"
                 " SET next_attempt = now() + make_interval(secs => $2)"
                 " FROM due WHERE d.alert_ref = due.alert_ref AND d.channel = due.channel"
                 " AND d.event = due.event RETURNING d.alert_ref, d.channel, d.event,"
                 " d.attempts) SELECT ") +
                 alert_columns +
                 ", d.channel, d.event, d.attempts FROM claimed d"
                 " JOIN tlsrpt.alerts a ON a.id = d.alert_ref"
                 " ORDER BY a.id, d.event DESC, d.channel",
             limit, static_cast<double>(lease.count()))) {
      pending_delivery p;
      p.alert = impl::alert_of(r);
      p.channel = r[12].as<std::string>();
      p.event = r[13].as<std::string>();
      p.attempts = r[14].as<int>();
      out.push_back(std::move(p));
    }
    tx.commit();
    return out;
  });
}

void pg_monitor::delivery_done(std::int64_t alert_id, const std::string& channel,
                               const std::string& event) {
  impl_->guarded("record a notification", [&] {
    pqxx::work tx(impl_->connection(), "delivered");
    impl_->exec(tx, "delivery_done",
                "UPDATE tlsrpt.alert_deliveries SET delivered = now(), attempts = attempts + 1,"
                " last_error = NULL WHERE alert_ref = $1 AND channel = $2 AND event = $3",
                alert_id, channel, event);
    impl_->exec(tx, "alert_notified",
                "UPDATE tlsrpt.alerts SET last_notified = now() WHERE id = $1", alert_id);
    tx.commit();
  });
}

void pg_monitor::delivery_failed(std::int64_t alert_id, const std::string& channel,
                                 const std::string& event, const std::string& error_text,
                                 std::chrono::seconds retry_after) {
  impl_->guarded("record a failed notification", [&] {
    pqxx::work tx(impl_->connection(), "undelivered");
    impl_->exec(tx, "delivery_failed",
                "UPDATE tlsrpt.alert_deliveries SET attempts = attempts + 1, last_error = $4,"
                " next_attempt = now() + make_interval(secs => $5)"
                " WHERE alert_ref = $1 AND channel = $2 AND event = $3",
                alert_id, channel, event, error_text, static_cast<double>(retry_after.count()));
    tx.commit();
  });
}

void pg_monitor::delivery_postpone(std::int64_t alert_id, const std::string& channel,
                                   const std::string& event, std::chrono::seconds retry_after) {
  impl_->guarded("postpone a notification", [&] {
    pqxx::work tx(impl_->connection(), "postponed");
    impl_->exec(
        tx, "delivery_postpone",
        "UPDATE tlsrpt.alert_deliveries SET next_attempt = now() + make_interval(secs => $4)"
        " WHERE alert_ref = $1 AND channel = $2 AND event = $3 AND delivered IS NULL",
        alert_id, channel, event, static_cast<double>(retry_after.count()));
    tx.commit();
  });
}

std::vector<alert_row> pg_monitor::alerts_since(seconds_clock since) {
  return impl_->guarded("read the alerts", [&] {
    std::vector<alert_row> out;
    pqxx::read_transaction tx(impl_->connection(), "alerts_since");
    for (const auto& r :
         impl_->exec(tx, "alerts_since",
                     std::string("SELECT ") + alert_columns +
                         " FROM tlsrpt.alerts a WHERE a.opened >= to_timestamp($1)"
                         " OR a.resolved >= to_timestamp($1) ORDER BY a.opened DESC, a.id DESC",
                     epoch(since)))
      out.push_back(impl::alert_of(r));
    return out;
  });
}

}  // namespace tlsrpt::store
