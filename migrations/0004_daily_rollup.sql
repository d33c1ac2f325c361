-- 0004: daily rollups for the dashboard (and any BI tool), kept current at write time, and
-- the per-day MTA-STS readiness built on them. The views of 0002 group the raw tables on every
-- query, which takes seconds once there are a million reports; these tables hold one row per
-- UTC day and grouping, so a 30-day overview reads a few thousand rows. docs/schema.md.

-- Sessions per UTC day (of date_begin), policy domain, policy type, STS mode and reporter:
-- the grouping and the numbers of tlsrpt.daily_domain_stats.
CREATE TABLE tlsrpt.daily_rollup (
  day                 date   NOT NULL,
  policy_domain       text,
  policy_type         text   NOT NULL,
  sts_mode            text,
  reporter            text   NOT NULL,
  reports             bigint NOT NULL,
  successful_sessions bigint NOT NULL,
  failed_sessions     bigint NOT NULL
);
-- NULL domains (Postfix) and modes are one group each, as in GROUP BY.
CREATE UNIQUE INDEX daily_rollup_key ON tlsrpt.daily_rollup
  (day, policy_domain, policy_type, sts_mode, reporter) NULLS NOT DISTINCT;
CREATE INDEX daily_rollup_domain_day_idx ON tlsrpt.daily_rollup (policy_domain, day);

-- Failed sessions per UTC day, policy domain, policy type, reporter, result type, receiving MX
-- and receiving IP (as text: the valid address, else the raw text): the grouping of
-- tlsrpt.failure_breakdown without the sending MTA's address.
CREATE TABLE tlsrpt.daily_failure_rollup (
  day                   date   NOT NULL,
  policy_domain         text,
  policy_type           text   NOT NULL,
  reporter              text   NOT NULL,
  result_type           text   NOT NULL,
  receiving_mx_hostname text,
  receiving_ip          text,
  reports               bigint NOT NULL,
  failed_sessions       bigint NOT NULL
);
CREATE UNIQUE INDEX daily_failure_rollup_key ON tlsrpt.daily_failure_rollup
  (day, policy_domain, policy_type, reporter, result_type, receiving_mx_hostname, receiving_ip)
  NULLS NOT DISTINCT;
CREATE INDEX daily_failure_rollup_domain_day_idx
  ON tlsrpt.daily_failure_rollup (policy_domain, day);

-- The writer inserts a report's policies and failure details in the same transaction as the
-- report (COPY or INSERT), so a statement trigger can read day and reporter from
-- tlsrpt.reports. One upsert per statement, not per row: a batch of 1000 reports touches a
-- few hundred rollup rows. Rows are upserted in key order, so two writers lock them in the
-- same order and cannot deadlock on them.
CREATE FUNCTION tlsrpt.rollup_add_policies() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tlsrpt.daily_rollup AS d
  SELECT (r.date_begin AT TIME ZONE 'UTC')::date, n.policy_domain, n.policy_type, n.sts_mode,
         r.reporter, count(DISTINCT r.id), sum(n.successful_sessions), sum(n.failed_sessions)
  FROM added n
  JOIN tlsrpt.reports r ON r.id = n.report_ref
  GROUP BY 1, 2, 3, 4, 5
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (day, policy_domain, policy_type, sts_mode, reporter) DO UPDATE
    SET reports = d.reports + excluded.reports,
        successful_sessions = d.successful_sessions + excluded.successful_sessions,
        failed_sessions = d.failed_sessions + excluded.failed_sessions;
  RETURN NULL;
END
$$;
CREATE TRIGGER policies_rollup
  AFTER INSERT ON tlsrpt.policies REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.rollup_add_policies();

CREATE FUNCTION tlsrpt.rollup_add_failures() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tlsrpt.daily_failure_rollup AS d
  SELECT (r.date_begin AT TIME ZONE 'UTC')::date, p.policy_domain, p.policy_type, r.reporter,
         n.result_type, n.receiving_mx_hostname,
         coalesce(host(n.receiving_ip), n.receiving_ip_raw),
         count(DISTINCT r.id), sum(n.failed_sessions)
  FROM added n
  JOIN tlsrpt.policies p ON p.id = n.policy_ref
  JOIN tlsrpt.reports r ON r.id = n.report_ref
  GROUP BY 1, 2, 3, 4, 5, 6, 7
  ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (day, policy_domain, policy_type, reporter, result_type, receiving_mx_hostname,
               receiving_ip) DO UPDATE
    SET reports = d.reports + excluded.reports,
        failed_sessions = d.failed_sessions + excluded.failed_sessions;
  RETURN NULL;
END
$$;
CREATE TRIGGER failure_details_rollup
  AFTER INSERT ON tlsrpt.failure_details REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.rollup_add_failures();

-- Rebuilds the rollup rows of the given days from the reports still stored. Used after
-- deletes (prune) and by hand after editing rows: `SELECT tlsrpt.rollup_refresh(days)`.
CREATE FUNCTION tlsrpt.rollup_refresh(p_days date[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM tlsrpt.daily_rollup WHERE day = ANY (p_days);
  DELETE FROM tlsrpt.daily_failure_rollup WHERE day = ANY (p_days);
  -- date_begin ranges rather than an expression on it, so the date_begin index serves.
  INSERT INTO tlsrpt.daily_rollup
  SELECT (r.date_begin AT TIME ZONE 'UTC')::date, p.policy_domain, p.policy_type, p.sts_mode,
         r.reporter, count(DISTINCT r.id), sum(p.successful_sessions), sum(p.failed_sessions)
  FROM unnest(p_days) AS d(day)
  JOIN tlsrpt.reports r ON r.date_begin >= d.day::timestamp AT TIME ZONE 'UTC'
                       AND r.date_begin < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
  JOIN tlsrpt.policies p ON p.report_ref = r.id
  GROUP BY 1, 2, 3, 4, 5
  ORDER BY 1, 2, 3, 4, 5;
  INSERT INTO tlsrpt.daily_failure_rollup
  SELECT (r.date_begin AT TIME ZONE 'UTC')::date, p.policy_domain, p.policy_type, r.reporter,
         f.result_type, f.receiving_mx_hostname, coalesce(host(f.receiving_ip), f.receiving_ip_raw),
         count(DISTINCT r.id), sum(f.failed_sessions)
  FROM unnest(p_days) AS d(day)
  JOIN tlsrpt.reports r ON r.date_begin >= d.day::timestamp AT TIME ZONE 'UTC'
                       AND r.date_begin < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
  JOIN tlsrpt.failure_details f ON f.report_ref = r.id
  JOIN tlsrpt.policies p ON p.id = f.policy_ref
  GROUP BY 1, 2, 3, 4, 5, 6, 7
  ORDER BY 1, 2, 3, 4, 5, 6, 7;
END
$$;

-- Deleted reports: their days are rebuilt (at the AFTER trigger the deleted rows are gone,
-- whichever of this and reports_delete_report_rows runs first). prune deletes whole old days
-- in the main, so this rereads little.
CREATE FUNCTION tlsrpt.rollup_forget_reports() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tlsrpt.rollup_refresh(
    ARRAY(SELECT DISTINCT (g.date_begin AT TIME ZONE 'UTC')::date FROM gone g ORDER BY 1));
  RETURN NULL;
END
$$;
CREATE TRIGGER reports_delete_rollup
  AFTER DELETE ON tlsrpt.reports REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.rollup_forget_reports();

-- What is stored already.
SELECT tlsrpt.rollup_refresh(
  ARRAY(SELECT DISTINCT (date_begin AT TIME ZONE 'UTC')::date FROM tlsrpt.reports ORDER BY 1));

-- The verdict rule of tlsrpt.sts_readiness_over (0002), on sums the caller makes: no-data
-- without sessions; not-ready without STS sessions or when blocking or policy-error sessions
-- reach the threshold share; ready otherwise.
CREATE FUNCTION tlsrpt.readiness_verdict(p_sessions bigint, p_sts_sessions bigint,
                                         p_blocking bigint, p_policy_errors bigint,
                                         p_threshold double precision DEFAULT 0.001)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN coalesce(p_sessions, 0) = 0 THEN 'no-data'
    WHEN coalesce(p_sts_sessions, 0) = 0
         OR p_blocking::double precision / p_sessions >= p_threshold
         OR p_policy_errors::double precision / p_sessions >= p_threshold THEN 'not-ready'
    ELSE 'ready'
  END
$$;

-- Per UTC day and policy domain, what the readiness verdict needs: sessions, STS sessions,
-- failed sessions with and without failure details, blocking (blocks_enforce()) and
-- policy-error sessions among the detailed ones, the STS mode seen, and the day's verdict at
-- the default threshold. Over a range, sum the counts and apply readiness_verdict() to
-- sessions, sts_sessions, blocking_detailed + greatest(failed - detailed, 0) and
-- policy_error_sessions.
CREATE VIEW tlsrpt.daily_readiness AS
WITH s AS (
  SELECT day, policy_domain,
         sum(successful_sessions + failed_sessions)::bigint AS sessions,
         sum(failed_sessions)::bigint AS failed_sessions,
         coalesce(sum(successful_sessions + failed_sessions)
                    FILTER (WHERE policy_type = 'sts'), 0)::bigint AS sts_sessions,
         max(sts_mode) AS sts_mode
  FROM tlsrpt.daily_rollup
  WHERE policy_domain IS NOT NULL
  GROUP BY 1, 2
), f AS (
  SELECT day, policy_domain,
         sum(failed_sessions)::bigint AS detailed,
         coalesce(sum(failed_sessions) FILTER (WHERE tlsrpt.blocks_enforce(result_type)), 0)
           ::bigint AS blocking,
         coalesce(sum(failed_sessions) FILTER (WHERE result_type IN ('sts-policy-fetch-error',
                                                                     'sts-policy-invalid')), 0)
           ::bigint AS policy_errors
  FROM tlsrpt.daily_failure_rollup
  WHERE policy_domain IS NOT NULL
  GROUP BY 1, 2
)
SELECT s.day, s.policy_domain, s.sessions, s.failed_sessions,
       coalesce(f.detailed, 0) AS detailed_failed_sessions, s.sts_sessions, s.sts_mode,
       coalesce(f.blocking, 0) AS blocking_detailed_sessions,
       coalesce(f.blocking, 0) + greatest(s.failed_sessions - coalesce(f.detailed, 0), 0)
         AS blocking_failed_sessions,
       coalesce(f.policy_errors, 0) AS policy_error_sessions,
       tlsrpt.readiness_verdict(s.sessions, s.sts_sessions,
                                coalesce(f.blocking, 0)
                                  + greatest(s.failed_sessions - coalesce(f.detailed, 0), 0),
                                coalesce(f.policy_errors, 0)) AS verdict
FROM s
LEFT JOIN f ON f.day = s.day AND f.policy_domain = s.policy_domain;

-- Readers: 0003's default privileges give them SELECT on the new tables and the view; the new
-- functions are executable by PUBLIC, as every function is unless revoked.
