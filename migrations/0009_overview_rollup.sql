-- 0009: the dashboard overview of a million reports in well under a second (issue 20,
-- BENCHMARKS.md). The rollups of 0004 keep one row per day, policy domain, policy type, STS
-- mode and reporter; when every domain hears from many reporters a day, they hold a third as
-- many rows as there are reports, and the overview grouped them three times a view. These two
-- are coarser, kept by the same kind of statement triggers: per (day, policy domain) for the
-- totals and the sparkline, and per (day, policy domain, reporter) for who reported. The
-- readiness badges and the findings come from the findings engine (sts_readiness_at()),
-- evaluated off the request path, so the overview no longer reads daily_readiness or
-- daily_failure_rollup at all. docs/schema.md.

-- Per UTC day (of date_begin) and policy domain: reports as daily_rollup counts them (summed
-- over its groups, as `summary` does), sessions.
CREATE TABLE tlsrpt.daily_domain_rollup (
  day                 date   NOT NULL,
  policy_domain       text,
  reports             bigint NOT NULL,
  successful_sessions bigint NOT NULL,
  failed_sessions     bigint NOT NULL
);
CREATE UNIQUE INDEX daily_domain_rollup_key ON tlsrpt.daily_domain_rollup (day, policy_domain)
  NULLS NOT DISTINCT;
CREATE INDEX daily_domain_rollup_domain_day_idx ON tlsrpt.daily_domain_rollup (policy_domain, day);

-- Per UTC day, policy domain and reporter: sessions.
CREATE TABLE tlsrpt.daily_reporter_rollup (
  day                 date   NOT NULL,
  policy_domain       text,
  reporter            text   NOT NULL,
  reports             bigint NOT NULL,
  successful_sessions bigint NOT NULL,
  failed_sessions     bigint NOT NULL
);
CREATE UNIQUE INDEX daily_reporter_rollup_key
  ON tlsrpt.daily_reporter_rollup (day, policy_domain, reporter) NULLS NOT DISTINCT;
CREATE INDEX daily_reporter_rollup_domain_day_idx
  ON tlsrpt.daily_reporter_rollup (policy_domain, day);

-- One upsert per table and statement, in key order (as 0004's, so two writers cannot
-- deadlock). `reports` counts a report once per group of daily_rollup, the way daily_rollup's
-- own trigger does, so that the sums agree with it exactly.
CREATE FUNCTION tlsrpt.rollup_add_policies_coarse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  WITH g AS (
    SELECT (r.date_begin AT TIME ZONE 'UTC')::date AS day, n.policy_domain, n.policy_type,
           n.sts_mode, r.reporter, count(DISTINCT r.id) AS reports,
           sum(n.successful_sessions) AS ok, sum(n.failed_sessions) AS failed
    FROM added n
    JOIN tlsrpt.reports r ON r.id = n.report_ref
    GROUP BY 1, 2, 3, 4, 5
  )
  INSERT INTO tlsrpt.daily_domain_rollup AS d
  SELECT day, policy_domain, sum(reports), sum(ok), sum(failed)
  FROM g
  GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (day, policy_domain) DO UPDATE
    SET reports = d.reports + excluded.reports,
        successful_sessions = d.successful_sessions + excluded.successful_sessions,
        failed_sessions = d.failed_sessions + excluded.failed_sessions;

  WITH g AS (
    SELECT (r.date_begin AT TIME ZONE 'UTC')::date AS day, n.policy_domain, n.policy_type,
           n.sts_mode, r.reporter, count(DISTINCT r.id) AS reports,
           sum(n.successful_sessions) AS ok, sum(n.failed_sessions) AS failed
    FROM added n
    JOIN tlsrpt.reports r ON r.id = n.report_ref
    GROUP BY 1, 2, 3, 4, 5
  )
  INSERT INTO tlsrpt.daily_reporter_rollup AS d
  SELECT day, policy_domain, reporter, sum(reports), sum(ok), sum(failed)
  FROM g
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT (day, policy_domain, reporter) DO UPDATE
    SET reports = d.reports + excluded.reports,
        successful_sessions = d.successful_sessions + excluded.successful_sessions,
        failed_sessions = d.failed_sessions + excluded.failed_sessions;
  RETURN NULL;
END
$$;
CREATE TRIGGER policies_rollup_coarse
  AFTER INSERT ON tlsrpt.policies REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.rollup_add_policies_coarse();

-- rollup_refresh() of 0004 (what prune's delete trigger and an operator call), now also for
-- the coarse rollups, which it rebuilds from the fine one it has just rebuilt.
CREATE OR REPLACE FUNCTION tlsrpt.rollup_refresh(p_days date[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM tlsrpt.daily_rollup WHERE day = ANY (p_days);
  DELETE FROM tlsrpt.daily_failure_rollup WHERE day = ANY (p_days);
  DELETE FROM tlsrpt.daily_domain_rollup WHERE day = ANY (p_days);
  DELETE FROM tlsrpt.daily_reporter_rollup WHERE day = ANY (p_days);
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
  INSERT INTO tlsrpt.daily_domain_rollup
  SELECT day, policy_domain, sum(reports), sum(successful_sessions), sum(failed_sessions)
  FROM tlsrpt.daily_rollup
  WHERE day = ANY (p_days)
  GROUP BY 1, 2
  ORDER BY 1, 2;
  INSERT INTO tlsrpt.daily_reporter_rollup
  SELECT day, policy_domain, reporter, sum(reports), sum(successful_sessions),
         sum(failed_sessions)
  FROM tlsrpt.daily_rollup
  WHERE day = ANY (p_days)
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3;
END
$$;

-- What is stored already, from the fine rollup (which 0004 filled).
INSERT INTO tlsrpt.daily_domain_rollup
SELECT day, policy_domain, sum(reports), sum(successful_sessions), sum(failed_sessions)
FROM tlsrpt.daily_rollup
GROUP BY 1, 2
ORDER BY 1, 2;
INSERT INTO tlsrpt.daily_reporter_rollup
SELECT day, policy_domain, reporter, sum(reports), sum(successful_sessions), sum(failed_sessions)
FROM tlsrpt.daily_rollup
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;

-- Readers: 0003's default privileges give them SELECT on the new tables.
